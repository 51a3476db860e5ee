//! `kv`: what a program keeps in its manifest's KvStore outlives the page.
//! Each boot counts itself, logs itself under `boot/NNNN`, and checks the
//! large value the first boot wrote (larger than a ring slot, so it goes
//! through a KvWriter and comes back in parts).
#![cfg(target_arch = "wasm32")]

use capos_rt::{Console, Env, Error, KvStore};

capos_rt::entry!(main);

const BIG_KEY: &str = "big";
const BIG_LEN: usize = 300_000;

fn big_value() -> Vec<u8> {
    (0..BIG_LEN).map(|i| (i * 7 % 256) as u8).collect()
}

fn main(env: &Env) -> Result<(), Error> {
    let console = Console::open(env, "console")?;
    let store = KvStore::open(env, "store")?;
    let boots = match store.get("boots")? {
        Some(bytes) => {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            text.parse::<u64>()
                .map_err(|_| Error::Other(format!("the counter holds {text:?}")))?
        }
        None => 0,
    } + 1;
    store.put("boots", boots.to_string().as_bytes())?;
    store.put(&format!("boot/{boots:04}"), b"booted")?;
    console.write_line(&format!(
        "kv: boot number {boots} of this manifest (the count is kept in IndexedDB)"
    ))?;
    match store.get(BIG_KEY)? {
        Some(value) if value == big_value() => console.write_line(&format!(
            "kv: the {BIG_LEN}-byte value from the first boot read back intact"
        ))?,
        Some(value) => {
            return Err(Error::Other(format!(
                "the {BIG_LEN}-byte value came back as {} different bytes",
                value.len()
            )));
        }
        None => {
            store.put(BIG_KEY, &big_value())?;
            console.write_line(&format!(
                "kv: wrote a {BIG_LEN}-byte value (through a KvWriter, committed at once)"
            ))?;
        }
    }
    let logged = store.list("boot/")?;
    console.write_line(&format!(
        "kv: {} boots logged under boot/: {}",
        logged.len(),
        logged.join(", ")
    ))?;
    let existed = store.delete("scratch")?;
    store.put("scratch", b"x")?;
    let deleted = store.delete("scratch")?;
    if existed || !deleted || store.get("scratch")?.is_some() {
        return Err(Error::Other("delete did not delete".into()));
    }
    console.write_line("kv: put, get, list and delete all answered as expected")?;
    Ok(())
}
