//! Which program runs a project folder, told by its files: one answer for
//! `capos run-project` and for a folder opened on the page.
//!
//! - Python: `main.py`, else `__main__.py` (run with `python`); a
//!   `pyproject.toml` with neither runs its `[project] name` as a module
//!   (`python -m NAME`, with `/project` and `/project/src` on `PYTHONPATH`);
//! - JavaScript: `package.json`'s `main` (else `index.js`), or `index.js`,
//!   `main.js` (run with `qjs`, as a module if `package.json` says
//!   `"type": "module"` or the file ends in `.mjs`);
//! - a compiled program (Rust, Go, C...): the one `.wasm` in the folder, or
//!   in `target/wasm32-wasip1/release/` (a cargo build's output).
//!
//! A folder that matches none of these, or more than one, is refused with
//! the files looked for.

/// Where the project is, inside the program.
pub const GUEST: &str = "/project";

/// What detection needs to see of a folder (paths are relative to it,
/// `/`-separated).
pub trait Folder {
    fn is_file(&self, path: &str) -> bool;
    /// A text file's contents, or why it cannot be read.
    fn text(&self, path: &str) -> Result<String, String>;
    /// The `.wasm` files directly in directory `dir` ("": the top), as
    /// paths relative to the folder.
    fn wasm_files(&self, dir: &str) -> Vec<String>;
}

#[derive(Debug, PartialEq, Eq)]
pub enum Program {
    /// A catalogue runtime ("python", "qjs").
    Runtime(&'static str),
    /// A module in the folder, by its relative path.
    Wasm(String),
}

/// What a project runs: a program, its arguments and environment entries.
#[derive(Debug, PartialEq, Eq)]
pub struct Plan {
    pub language: &'static str,
    pub program: Program,
    pub args: Vec<String>,
    pub env: Vec<String>,
}

pub const LOOKED_FOR: &str = "main.py, __main__.py, pyproject.toml (Python); package.json, index.js, main.js \
     (JavaScript); one .wasm file, at the top or in target/wasm32-wasip1/release/ (Rust, Go, C...)";

/// The plan for `folder` (called `name` in messages).
pub fn detect(folder: &impl Folder, name: &str) -> Result<Plan, String> {
    let mut plans = Vec::new();
    plans.extend(python(folder, name)?);
    plans.extend(javascript(folder, name)?);
    plans.extend(compiled(folder, name)?);
    match plans.len() {
        1 => Ok(plans.remove(0)),
        0 => Err(format!("{name}: no project found; looked for {LOOKED_FOR}")),
        _ => Err(format!(
            "{name}: more than one kind of project here ({}); run the one you mean by itself",
            plans
                .iter()
                .map(|p| format!("{} via {}", p.language, p.program.name()))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

impl Program {
    pub fn name(&self) -> &str {
        match self {
            Self::Runtime(name) => name,
            Self::Wasm(path) => path,
        }
    }
}

fn python(folder: &impl Folder, name: &str) -> Result<Option<Plan>, String> {
    for script in ["main.py", "__main__.py"] {
        if folder.is_file(script) {
            return Ok(Some(Plan {
                language: "Python",
                program: Program::Runtime("python"),
                args: vec![format!("{GUEST}/{script}")],
                env: Vec::new(),
            }));
        }
    }
    if !folder.is_file("pyproject.toml") {
        return Ok(None);
    }
    let text = folder.text("pyproject.toml")?;
    let module = toml_project_name(&text).ok_or_else(|| {
        format!(
            "{name}: pyproject.toml names no [project] name, and there is no main.py or __main__.py to run"
        )
    })?;
    Ok(Some(Plan {
        language: "Python",
        program: Program::Runtime("python"),
        args: vec!["-m".into(), module.replace('-', "_")],
        env: vec![format!("PYTHONPATH={GUEST}:{GUEST}/src")],
    }))
}

/// `name` under `[project]` in a pyproject.toml (enough of TOML for that).
fn toml_project_name(text: &str) -> Option<String> {
    let mut in_project = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_project = line == "[project]";
            continue;
        }
        if in_project
            && let Some((key, value)) = line.split_once('=')
            && key.trim() == "name"
        {
            let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
            return (!value.is_empty()).then(|| value.to_string());
        }
    }
    None
}

fn javascript(folder: &impl Folder, name: &str) -> Result<Option<Plan>, String> {
    let (main, module) = if folder.is_file("package.json") {
        let json: serde_json::Value = serde_json::from_str(&folder.text("package.json")?)
            .map_err(|e| format!("{name}/package.json: not valid JSON: {e}"))?;
        let main = json
            .get("main")
            .and_then(|m| m.as_str())
            .unwrap_or("index.js")
            .trim_start_matches("./")
            .to_string();
        let module = json.get("type").and_then(|t| t.as_str()) == Some("module");
        if !folder.is_file(&main) {
            return Err(format!(
                "{name}: package.json's main, {main}, is not a file"
            ));
        }
        (main, module)
    } else if let Some(main) = ["index.js", "main.js"]
        .into_iter()
        .find(|f| folder.is_file(f))
    {
        (main.to_string(), false)
    } else {
        return Ok(None);
    };
    let mut args = Vec::new();
    if module || main.ends_with(".mjs") {
        args.push("-m".to_string());
    }
    args.push(format!("{GUEST}/{main}"));
    Ok(Some(Plan {
        language: "JavaScript",
        program: Program::Runtime("qjs"),
        args,
        env: Vec::new(),
    }))
}

fn compiled(folder: &impl Folder, name: &str) -> Result<Option<Plan>, String> {
    for place in ["", "target/wasm32-wasip1/release"] {
        let mut wasm = folder.wasm_files(place);
        match wasm.len() {
            0 => continue,
            1 => {
                return Ok(Some(Plan {
                    language: "WebAssembly (wasm32-wasip1)",
                    program: Program::Wasm(wasm.remove(0)),
                    args: Vec::new(),
                    env: Vec::new(),
                }));
            }
            many => {
                let at = if place.is_empty() {
                    name.to_string()
                } else {
                    format!("{name}/{place}")
                };
                return Err(format!(
                    "{at}: {many} .wasm files; run the one you mean by itself"
                ));
            }
        }
    }
    Ok(None)
}

/// A folder given as its files' paths, with the texts detection reads
/// (what the page has of a folder a person opened).
pub struct Listing {
    pub paths: std::collections::BTreeSet<String>,
    pub texts: std::collections::BTreeMap<String, String>,
}

impl Folder for Listing {
    fn is_file(&self, path: &str) -> bool {
        self.paths.contains(path)
    }

    fn text(&self, path: &str) -> Result<String, String> {
        self.texts
            .get(path)
            .cloned()
            .ok_or_else(|| format!("{path} is not UTF-8 text"))
    }

    fn wasm_files(&self, dir: &str) -> Vec<String> {
        self.paths
            .iter()
            .filter(|p| {
                let (parent, file) = p.rsplit_once('/').unwrap_or(("", p));
                parent == dir && file.ends_with(".wasm")
            })
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(files: &[(&str, &str)]) -> Listing {
        Listing {
            paths: files.iter().map(|(p, _)| p.to_string()).collect(),
            texts: files
                .iter()
                .map(|(p, t)| (p.to_string(), t.to_string()))
                .collect(),
        }
    }

    #[test]
    fn each_language_is_told_by_its_files() {
        let py = detect(&listing(&[("main.py", "print(1)")]), "p").unwrap();
        assert_eq!(
            (py.program, py.args),
            (
                Program::Runtime("python"),
                vec!["/project/main.py".to_string()]
            )
        );
        let pyproject = detect(
            &listing(&[(
                "pyproject.toml",
                "[build-system]\nname = \"no\"\n[project]\nname = \"my-app\"\n",
            )]),
            "p",
        )
        .unwrap();
        assert_eq!(pyproject.args, ["-m", "my_app"]);
        assert_eq!(pyproject.env, ["PYTHONPATH=/project:/project/src"]);
        let js = detect(
            &listing(&[
                (
                    "package.json",
                    r#"{"main": "./src/app.js", "type": "module"}"#,
                ),
                ("src/app.js", ""),
            ]),
            "p",
        )
        .unwrap();
        assert_eq!(
            (js.program, js.args),
            (
                Program::Runtime("qjs"),
                vec!["-m".to_string(), "/project/src/app.js".to_string()]
            )
        );
        let wasm = detect(
            &listing(&[("target/wasm32-wasip1/release/tool.wasm", "")]),
            "p",
        )
        .unwrap();
        assert_eq!(
            wasm.program,
            Program::Wasm("target/wasm32-wasip1/release/tool.wasm".into())
        );
    }

    #[test]
    fn nothing_several_or_a_broken_manifest_is_refused_with_reasons() {
        let none = detect(&listing(&[("README", "hi")]), "p").unwrap_err();
        assert!(none.contains("looked for main.py"), "{none}");
        let both = detect(&listing(&[("main.py", ""), ("index.js", "")]), "p").unwrap_err();
        assert!(both.contains("more than one kind"), "{both}");
        let missing =
            detect(&listing(&[("package.json", r#"{"main": "gone.js"}"#)]), "p").unwrap_err();
        assert!(missing.contains("gone.js, is not a file"), "{missing}");
        let two = detect(&listing(&[("a.wasm", ""), ("b.wasm", "")]), "p").unwrap_err();
        assert!(two.contains("2 .wasm files"), "{two}");
        let bad = detect(&listing(&[("package.json", "{")]), "p").unwrap_err();
        assert!(bad.contains("not valid JSON"), "{bad}");
    }
}
