//! ES modules: `import x from './lib.js'` loads a file through WASI, relative to the importing
//! module; bare names are the built-in modules the prelude defines (`fs`, `process`).

use rquickjs::loader::{ImportAttributes, Loader, Resolver};
use rquickjs::module::Declared;
use rquickjs::{Ctx, Error, Module, Result};

/// Built-in modules: each re-exports a global the prelude made, so `import fs from 'fs'` and
/// `import { readFileSync } from 'fs'` both work.
const BUILTINS: &[(&str, &str)] = &[
    (
        "fs",
        "const fs = globalThis.fs; export default fs;\n\
         export const { readFileSync, writeFileSync, appendFileSync, existsSync, readdirSync,\n\
           statSync, lstatSync, mkdirSync, unlinkSync, rmdirSync, rmSync, renameSync } = fs;",
    ),
    (
        "process",
        "const p = globalThis.process; export default p;\n\
         export const { argv, env, exit, stdout, stderr } = p;",
    ),
];

pub struct FileModules;

impl Resolver for FileModules {
    fn resolve<'js>(
        &mut self,
        _ctx: &Ctx<'js>,
        base: &str,
        name: &str,
        _attributes: Option<ImportAttributes<'js>>,
    ) -> Result<String> {
        let name = name.strip_prefix("node:").unwrap_or(name);
        if BUILTINS.iter().any(|(b, _)| *b == name) {
            return Ok(name.to_string());
        }
        if name.starts_with('/') {
            return Ok(normalize(name));
        }
        if name.starts_with("./") || name.starts_with("../") {
            // Relative to the importing module's directory; a module with no directory in its
            // name (the main script given as `x.js`, or `-e` code) is in the working directory.
            let dir = match base.rfind('/') {
                Some(i) => &base[..=i],
                None => "",
            };
            return Ok(normalize(&format!("{dir}{name}")));
        }
        Err(Error::new_resolving_message(
            base,
            name,
            "only files (./x.js, ../x.js, /x.js) and the built-in modules fs and process can be imported",
        ))
    }
}

impl Loader for FileModules {
    fn load<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        name: &str,
        _attributes: Option<ImportAttributes<'js>>,
    ) -> Result<Module<'js, Declared>> {
        if let Some((_, source)) = BUILTINS.iter().find(|(b, _)| *b == name) {
            return Module::declare(ctx.clone(), name, *source);
        }
        let source = std::fs::read(name)
            .map_err(|e| Error::new_loading_message(name, format!("cannot read it: {e}")))?;
        Module::declare(ctx.clone(), name, source)
    }
}

/// Removes `.` and `..` components (WASI resolves paths under a preopen; `..` above the start
/// of a relative name is kept and refused there, not here).
fn normalize(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if absolute => {}
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn normalize_keeps_relative_names_relative() {
        assert_eq!(normalize("./a/../b.js"), "b.js");
        assert_eq!(normalize("lib/./x/../y.js"), "lib/y.js");
        assert_eq!(normalize("../up.js"), "../up.js");
        assert_eq!(normalize("/data/../x.js"), "/x.js");
        assert_eq!(normalize("/../x.js"), "/x.js");
    }
}
