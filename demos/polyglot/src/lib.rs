//! `polyglot`: five programs in five languages, side by side, none able to touch another's
//! files. init spawns them all at once from the manifest's children: Rust, Go and C compiled to
//! WASI, and JavaScript and Python run by the catalogue's QuickJS and RustPython runtimes. Each
//! gets its own Console prefix (`[go] `...), a Timer, randomness and a Directory of its own
//! as /data, and nothing else. Each writes a file there and tries to read the files the others
//! wrote, which are not in its tree. init waits for all five and gives an account.
#![cfg(target_arch = "wasm32")]

use capos_rt::{BootPackage, Console, Env, Error, Names, ProcessSpawner};

capos_rt::entry!(main);

fn main(env: &Env) -> Result<(), Error> {
    let console = Console::open(env, "console")?;
    let stderr = Console::open(env, "stderr")?;
    let spawner = ProcessSpawner::open(env, "spawner")?;
    let children = BootPackage::open(env, "boot")?.children()?;
    let mut names = Names::from_capset(&env.capset);
    let mut running = Vec::new();
    for spec in &children {
        let language = language_of(&spec.binary);
        // Each child's output streams, attenuated to carry its name on every line.
        let prefix = format!("[{language}] ");
        names.insert(
            &format!("stdout-{language}"),
            console.with_prefix(&prefix)?.cap(),
        );
        names.insert(
            &format!("stderr-{language}"),
            stderr.with_prefix(&prefix)?.cap(),
        );
        let handle = spawner.spawn_child(spec, &names)?;
        running.push((language, handle));
    }
    console.write_line(&format!(
        "polyglot: started {} programs at once: {}",
        running.len(),
        running
            .iter()
            .map(|(language, h)| format!("{language} (pid {})", h.pid))
            .collect::<Vec<_>>()
            .join(", ")
    ))?;
    let mut failed = Vec::new();
    for (language, handle) in &running {
        let (code, reason) = handle.wait()?;
        if code != 0 {
            failed.push(format!("{language}: {reason}"));
        }
    }
    if !failed.is_empty() {
        return Err(Error::Other(format!(
            "polyglot: {} of {} failed: {}",
            failed.len(),
            running.len(),
            failed.join("; ")
        )));
    }
    console.write_line(&format!(
        "polyglot: all {} exited 0: each wrote its own /data and could read no one else's",
        running.len()
    ))
}

/// The language a child's binary is written in, as its Console prefix names it.
fn language_of(binary: &str) -> &str {
    match binary {
        "qjs" => "js",
        other => other.strip_prefix("polyglot-").unwrap_or(other),
    }
}
