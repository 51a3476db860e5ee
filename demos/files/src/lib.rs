//! `files`: a persistent directory outlives the page. Each boot appends
//! itself to `/home/visits.log`, waits for `sync` (the browser's storage
//! has committed it), lists the directory, then writes past the mount's
//! 1 MiB quota: the write that would not fit fails with ENOSPC, and what
//! did fit is removed again. Then a Python child, given the same /home,
//! meets the quota through WASI.
#![cfg(target_arch = "wasm32")]

use capos_rt::config::errno::ENOSPC;
use capos_rt::{BootPackage, Console, Directory, Env, Error, Names, ProcessSpawner};

capos_rt::entry!(main);

const CHUNK: usize = 64 * 1024;
const TRY_BYTES: usize = 2 << 20;

fn main(env: &Env) -> Result<(), Error> {
    let console = Console::open(env, "console")?;
    let home = Directory::open(env, "home")?;
    let log = home.open_file("visits.log", true)?;
    let visits = log.read_all()?.iter().filter(|&&b| b == b'\n').count() + 1;
    log.append(format!("visit {visits}\n").as_bytes())?;
    log.sync()?;
    console.write_line(&format!(
        "files: visit {visits} of this demo, logged in /home/visits.log and synced \
         (the store \"files-demo\" in the browser keeps it across reloads)"
    ))?;
    console.write_line(&format!("files: /home holds {}", home.names()?.join(", ")))?;
    let big = home.open_file("big.bin", true)?;
    let chunk = vec![0xa5u8; CHUNK];
    let mut written = 0;
    let outcome = loop {
        if written >= TRY_BYTES {
            break Ok(());
        }
        match big.append(&chunk) {
            Ok(end) => written = end as usize,
            Err(e) => break Err(e),
        }
    };
    match outcome {
        Err(Error::Errno(ENOSPC)) => console.write_line(&format!(
            "files: writing 2 MiB into a directory limited to 1 MiB: ENOSPC after {} KiB; \
             the write that did not fit wrote nothing",
            written / 1024
        ))?,
        Err(e) => return Err(e),
        Ok(()) => {
            return Err(Error::Other(format!(
                "2 MiB fit a 1 MiB quota ({written} bytes written)"
            )));
        }
    }
    home.unlink("big.bin")?;
    home.sync()?;
    console.write_line("files: big.bin removed; the quota is free again")?;
    let spawner = ProcessSpawner::open(env, "spawner")?;
    let names = Names::from_capset(&env.capset);
    for spec in &BootPackage::open(env, "boot")?.children()? {
        let (code, reason) = spawner.spawn_child(spec, &names)?.wait()?;
        if code != 0 {
            return Err(Error::Other(format!("{}: {reason}", spec.binary)));
        }
    }
    Ok(())
}
