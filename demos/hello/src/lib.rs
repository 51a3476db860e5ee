//! init of the `hello` manifest: says hello through its Console capability,
//! shows the authority it holds, and exits 0.
#![cfg(target_arch = "wasm32")]

use capos_rt::{Console, Env, Error};

capos_rt::entry!(main);

fn main(env: &Env) -> Result<(), Error> {
    let console = Console::open(env, "console")?;
    console.write_line(&format!(
        "hello from init (pid {}): a capOS process in its own Web Worker",
        env.pid
    ))?;
    let held: Vec<&str> = env
        .capset
        .entries()
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    console.write_line(&format!(
        "my CapSet holds {} capability(ies): {}",
        held.len(),
        held.join(", ")
    ))?;
    console.write_line("init exiting with code 0")?;
    Ok(())
}
