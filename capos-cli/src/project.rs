//! `capos run-project DIR [ARGS...]`: run a project folder by its language.
//! The folder is preopened at `/project` (changes written back at exit, as
//! `--dir` does) and run with what its files say it is:
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

use crate::exit::{self, Failure};
use crate::run::{self, RunArgs};
use std::path::{Path, PathBuf};

/// Where the project is, inside the program.
pub const GUEST: &str = "/project";

/// What a project runs: a program (a runtime's name, or a `.wasm` on the
/// host), its arguments, and environment entries.
#[derive(Debug, PartialEq, Eq)]
pub struct Plan {
    pub language: &'static str,
    pub program: String,
    pub args: Vec<String>,
    pub env: Vec<String>,
}

const LOOKED_FOR: &str = "main.py, __main__.py, pyproject.toml (Python); package.json, index.js, main.js \
     (JavaScript); one .wasm file, at the top or in target/wasm32-wasip1/release/ (Rust, Go, C...)";

pub fn detect(dir: &Path) -> Result<Plan, Failure> {
    if !dir.is_dir() {
        return Err(Failure::new(
            exit::USAGE,
            format!("{} is not a directory", dir.display()),
        ));
    }
    let mut plans = Vec::new();
    if let Some(plan) = python(dir)? {
        plans.push(plan);
    }
    if let Some(plan) = javascript(dir)? {
        plans.push(plan);
    }
    if let Some(plan) = compiled(dir)? {
        plans.push(plan);
    }
    match plans.len() {
        1 => Ok(plans.remove(0)),
        0 => Err(Failure::new(
            exit::USAGE,
            format!(
                "{}: no project found; looked for {LOOKED_FOR}",
                dir.display()
            ),
        )),
        _ => Err(Failure::new(
            exit::USAGE,
            format!(
                "{}: more than one kind of project here ({}); run the one you mean with `capos run`",
                dir.display(),
                plans
                    .iter()
                    .map(|p| format!("{} via {}", p.language, p.program))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

fn python(dir: &Path) -> Result<Option<Plan>, Failure> {
    for script in ["main.py", "__main__.py"] {
        if dir.join(script).is_file() {
            return Ok(Some(Plan {
                language: "Python",
                program: "python".into(),
                args: vec![format!("{GUEST}/{script}")],
                env: Vec::new(),
            }));
        }
    }
    let pyproject = dir.join("pyproject.toml");
    if !pyproject.is_file() {
        return Ok(None);
    }
    let text = read(&pyproject)?;
    let name = toml_project_name(&text).ok_or_else(|| {
        Failure::new(
            exit::USAGE,
            format!(
                "{}: pyproject.toml names no [project] name, and there is no main.py or __main__.py to run",
                dir.display()
            ),
        )
    })?;
    Ok(Some(Plan {
        language: "Python",
        program: "python".into(),
        args: vec!["-m".into(), name.replace('-', "_")],
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

fn javascript(dir: &Path) -> Result<Option<Plan>, Failure> {
    let package = dir.join("package.json");
    let (main, module) = if package.is_file() {
        let json: serde_json::Value = serde_json::from_str(&read(&package)?).map_err(|e| {
            Failure::new(
                exit::USAGE,
                format!("{}: not valid JSON: {e}", package.display()),
            )
        })?;
        let main = json
            .get("main")
            .and_then(|m| m.as_str())
            .unwrap_or("index.js")
            .trim_start_matches("./")
            .to_string();
        let module = json.get("type").and_then(|t| t.as_str()) == Some("module");
        if !dir.join(&main).is_file() {
            return Err(Failure::new(
                exit::USAGE,
                format!(
                    "{}: package.json's main, {main}, is not a file",
                    dir.display()
                ),
            ));
        }
        (main, module)
    } else if let Some(main) = ["index.js", "main.js"]
        .into_iter()
        .find(|f| dir.join(f).is_file())
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
        program: "qjs".into(),
        args,
        env: Vec::new(),
    }))
}

fn compiled(dir: &Path) -> Result<Option<Plan>, Failure> {
    for place in [dir.to_path_buf(), dir.join("target/wasm32-wasip1/release")] {
        let wasm: Vec<PathBuf> = std::fs::read_dir(&place)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "wasm"))
            .collect();
        match wasm.as_slice() {
            [] => continue,
            [one] => {
                return Ok(Some(Plan {
                    language: "WebAssembly (wasm32-wasip1)",
                    program: one.display().to_string(),
                    args: Vec::new(),
                    env: Vec::new(),
                }));
            }
            many => {
                return Err(Failure::new(
                    exit::USAGE,
                    format!(
                        "{}: {} .wasm files; run the one you mean with `capos run`",
                        place.display(),
                        many.len()
                    ),
                ));
            }
        }
    }
    Ok(None)
}

fn read(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .map_err(|e| Failure::new(exit::USAGE, format!("{}: {e}", path.display())))
}

/// `capos run-project`: detects, says what it runs (on stderr), runs it.
pub fn run_project(
    dir: &str,
    args: Vec<String>,
    mut env: Vec<String>,
    fetch: bool,
    timeout: u64,
) -> Result<u8, Failure> {
    let plan = detect(Path::new(dir))?;
    eprintln!(
        "capos: {dir} is a {} project: running {} with {GUEST}",
        plan.language, plan.program
    );
    env.extend(plan.env);
    let mut program_args = plan.args;
    program_args.extend(args);
    run::run(RunArgs {
        dirs: vec![format!("{dir}::{GUEST}")],
        env,
        timeout,
        trap_unknown_imports: false,
        fetch,
        file: plan.program,
        args: program_args,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh folder holding `files` (tests run in parallel: each its own).
    fn project(files: &[(&str, &str)]) -> PathBuf {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("capos-project-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn each_language_is_told_by_its_files() {
        let py = detect(&project(&[("main.py", "print(1)")])).unwrap();
        assert_eq!(
            (py.program.as_str(), py.args),
            ("python", vec!["/project/main.py".to_string()])
        );
        let pyproject = detect(&project(&[(
            "pyproject.toml",
            "[build-system]\nname = \"no\"\n[project]\nname = \"my-app\"\n",
        )]))
        .unwrap();
        assert_eq!(pyproject.args, ["-m", "my_app"]);
        assert_eq!(pyproject.env, ["PYTHONPATH=/project:/project/src"]);
        let js = detect(&project(&[
            (
                "package.json",
                r#"{"main": "./src/app.js", "type": "module"}"#,
            ),
            ("src/app.js", ""),
        ]))
        .unwrap();
        assert_eq!(
            (js.program.as_str(), js.args),
            (
                "qjs",
                vec!["-m".to_string(), "/project/src/app.js".to_string()]
            )
        );
        let wasm = detect(&project(&[("target/wasm32-wasip1/release/tool.wasm", "")])).unwrap();
        assert!(
            wasm.program
                .ends_with("target/wasm32-wasip1/release/tool.wasm")
        );
    }

    #[test]
    fn nothing_several_or_a_broken_manifest_is_refused_with_reasons() {
        let none = detect(&project(&[("README", "hi")])).unwrap_err();
        assert!(
            none.message.contains("looked for main.py"),
            "{}",
            none.message
        );
        let both = detect(&project(&[("main.py", ""), ("index.js", "")])).unwrap_err();
        assert!(
            both.message.contains("more than one kind"),
            "{}",
            both.message
        );
        let missing = detect(&project(&[("package.json", r#"{"main": "gone.js"}"#)])).unwrap_err();
        assert!(
            missing.message.contains("gone.js, is not a file"),
            "{}",
            missing.message
        );
        let two = detect(&project(&[("a.wasm", ""), ("b.wasm", "")])).unwrap_err();
        assert!(two.message.contains("2 .wasm files"), "{}", two.message);
    }
}
