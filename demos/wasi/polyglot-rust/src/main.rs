//! The polyglot demo's Rust program. Like its Go, C, JavaScript and Python siblings, it writes
//! /data/from-rust.txt and then tries to read the file each sibling wrote in its own /data. Each
//! process was granted a different directory as /data, so none of those files is in its tree:
//! every read must fail. Exits 0 if so, 1 if it could read a sibling's file, 2 if it could not
//! write its own.

const ME: &str = "rust";
const SIBLINGS: [&str; 5] = ["rust", "go", "c", "js", "python"];

fn main() {
    let mine = format!("/data/from-{ME}.txt");
    if let Err(e) = std::fs::write(&mine, format!("written by the {ME} program\n")) {
        eprintln!("cannot write {mine}: {e}");
        std::process::exit(2);
    }
    let mut refused = Vec::new();
    for other in SIBLINGS.iter().filter(|s| **s != ME) {
        let path = format!("/data/from-{other}.txt");
        match std::fs::read(&path) {
            Ok(_) => {
                println!("read {path}: isolation is broken");
                std::process::exit(1);
            }
            Err(e) => refused.push(format!("{other} ({})", errno_name(&e))),
        }
    }
    println!("wrote {mine}; cannot read {}", refused.join(", "));
}

fn errno_name(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::NotFound => "ENOENT",
        std::io::ErrorKind::PermissionDenied => "EACCES",
        _ => "refused",
    }
}
