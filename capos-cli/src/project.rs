//! `capos run-project DIR [ARGS...]`: run a project folder by its language.
//! The folder is preopened at `/project` (changes written back at exit, as
//! `--dir` does) and run with what its files say it is.
//! The rules are `capos_schema::project`'s, shared with the page.

use crate::exit::{self, Failure};
use crate::run::{self, RunArgs};
use capos_schema::project::{Folder, GUEST, Plan, Program};
use std::path::Path;

/// A project folder on the host.
struct HostFolder<'a>(&'a Path);

impl Folder for HostFolder<'_> {
    fn is_file(&self, path: &str) -> bool {
        self.0.join(path).is_file()
    }

    fn text(&self, path: &str) -> Result<String, String> {
        let path = self.0.join(path);
        std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
    }

    fn wasm_files(&self, dir: &str) -> Vec<String> {
        let mut found: Vec<String> = std::fs::read_dir(self.0.join(dir))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().is_file())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|name| name.ends_with(".wasm"))
            .map(|name| {
                if dir.is_empty() {
                    name
                } else {
                    format!("{dir}/{name}")
                }
            })
            .collect();
        found.sort();
        found
    }
}

pub fn detect(dir: &Path) -> Result<Plan, Failure> {
    if !dir.is_dir() {
        return Err(Failure::new(
            exit::USAGE,
            format!("{} is not a directory", dir.display()),
        ));
    }
    capos_schema::project::detect(&HostFolder(dir), &dir.display().to_string())
        .map_err(|e| Failure::new(exit::USAGE, e))
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
    let program = match &plan.program {
        Program::Runtime(name) => name.to_string(),
        Program::Wasm(path) => Path::new(dir).join(path).display().to_string(),
    };
    eprintln!(
        "capos: {dir} is a {} project: running {program} with {GUEST}",
        plan.language
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
        file: program,
        args: program_args,
        dir_store: None,
        tcplisten: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_folder_is_read_as_it_is() {
        let dir = std::env::temp_dir().join(format!("capos-project-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("target/wasm32-wasip1/release")).unwrap();
        std::fs::write(dir.join("target/wasm32-wasip1/release/tool.wasm"), b"").unwrap();
        let plan = detect(&dir).unwrap();
        assert_eq!(
            plan.program,
            Program::Wasm("target/wasm32-wasip1/release/tool.wasm".into())
        );
        std::fs::write(dir.join("main.py"), b"print(1)").unwrap();
        let both = detect(&dir).unwrap_err();
        assert!(
            both.message.contains("more than one kind"),
            "{}",
            both.message
        );
        assert!(detect(&dir.join("main.py")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
