//! The runtime catalogue the build writes (build/site/runtimes/catalogue.json, by
//! scripts/runtime-catalogue.mjs): what `capos run NAME` can run by name.

use crate::exit::{self, Failure};
use serde::Deserialize;
use std::path::Path;

#[derive(Clone, Debug, Deserialize)]
pub struct Entry {
    pub name: String,
    pub version: String,
    pub sha256: String,
}

#[derive(Deserialize)]
struct Catalogue {
    format: u32,
    runtimes: Vec<Entry>,
}

pub fn read(root: &Path) -> Result<Vec<Entry>, Failure> {
    let path = root.join("build/site/runtimes/catalogue.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Failure::new(
            exit::UNAVAILABLE,
            format!(
                "cannot read the runtime catalogue {}: {e} (`make runtimes` builds it)",
                path.display()
            ),
        )
    })?;
    parse(&text).map_err(|why| {
        Failure::new(
            exit::UNAVAILABLE,
            format!(
                "the runtime catalogue {} is malformed: {why}",
                path.display()
            ),
        )
    })
}

fn parse(text: &str) -> Result<Vec<Entry>, String> {
    let catalogue: Catalogue = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if catalogue.format != 1 {
        return Err(format!("format {} is not 1", catalogue.format));
    }
    for e in &catalogue.runtimes {
        let hex = e.sha256.len() == 64
            && e.sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !hex {
            return Err(format!(
                "runtime {}: sha256 is not 64 lowercase hex digits",
                e.name
            ));
        }
    }
    Ok(catalogue.runtimes)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn entries_are_read_and_bad_hashes_refused() {
        let good = format!(
            r#"{{"format":1,"runtimes":[{{"name":"qjs","version":"v","file":"qjs.wasm","size":3,"sha256":"{}","variants":[]}}]}}"#,
            "ab".repeat(32)
        );
        let entries = parse(&good).unwrap();
        assert_eq!(entries[0].name, "qjs");
        assert!(
            parse(&good.replace("ab", "AB"))
                .unwrap_err()
                .contains("sha256")
        );
        assert!(
            parse(r#"{"format":2,"runtimes":[]}"#)
                .unwrap_err()
                .contains("format")
        );
    }
}
