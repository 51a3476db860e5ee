// Makes the runtime catalogue: copies each runtime's module into
// build/site/runtimes/, precompresses it (brotli and gzip, which the server
// picks by Accept-Encoding), and writes catalogue.json with each one's name,
// version, size, SHA-256 and compressed variants.
//
// Usage: node scripts/runtime-catalogue.mjs WASM_DIR OUT_DIR
//
// Why JSON and not capnp (the project's format for manifests): the catalogue
// is read by the kernel Worker's JavaScript before any wasm is loaded, and by
// the CLI (serde_json); it is a static build artifact that carries no
// authority. The hash a runtime must match can also be pinned by a manifest,
// which stays capnp.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

// What the build makes (runtimes/*/): the program, its catalogue name, what
// it is, and the script extensions the page runs with it.
const RUNTIMES = [
  { name: 'python', program: 'python', version: 'RustPython 0.6.0, frozen standard library', language: 'Python', extensions: ['.py'] },
  { name: 'qjs', program: 'qjs', version: 'QuickJS-ng 0.16.2 (rquickjs 0.14.0)', language: 'JavaScript', extensions: ['.js', '.mjs'] },
];

const [wasmDir, outDir] = process.argv.slice(2);
if (!wasmDir || !outDir) {
  console.error('usage: node scripts/runtime-catalogue.mjs WASM_DIR OUT_DIR');
  process.exit(64);
}
mkdirSync(outDir, { recursive: true });
const cataloguePath = join(outDir, 'catalogue.json');
const previous = existsSync(cataloguePath) ? JSON.parse(readFileSync(cataloguePath, 'utf8')) : { runtimes: [] };

// Writes through a temporary name: a reader never sees half a file.
const writeAtomically = (path, bytes) => {
  writeFileSync(`${path}.tmp`, bytes);
  renameSync(`${path}.tmp`, path);
};

const runtimes = RUNTIMES.map((r) => {
  const source = join(wasmDir, `${r.program}.wasm`);
  const bytes = readFileSync(source);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const file = `${r.name}.wasm`;
  const target = join(outDir, file);
  const before = previous.runtimes?.find((p) => p.name === r.name);
  const variantsKept = before?.sha256 === sha256 && existsSync(target)
    && before.variants.every((v) => existsSync(join(outDir, v.file)));
  let variants;
  if (variantsKept) {
    variants = before.variants;
  } else {
    copyFileSync(source, `${target}.tmp`);
    renameSync(`${target}.tmp`, target);
    const started = Date.now();
    const br = brotliCompressSync(bytes, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 9,
        [constants.BROTLI_PARAM_LGWIN]: 24,
        [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      },
    });
    const gz = gzipSync(bytes, { level: 9 });
    writeAtomically(join(outDir, `${file}.br`), br);
    writeAtomically(join(outDir, `${file}.gz`), gz);
    variants = [
      { encoding: 'br', file: `${file}.br`, size: br.length },
      { encoding: 'gzip', file: `${file}.gz`, size: gz.length },
    ];
    console.log(`runtime ${r.name}: ${bytes.length} bytes, br ${br.length}, gzip ${gz.length} (${Date.now() - started} ms)`);
  }
  return {
    name: r.name, version: r.version, language: r.language, extensions: r.extensions,
    file, size: statSync(target).size, sha256, variants,
  };
});

// Rewritten only when it changes: capos embeds the site, and is rebuilt when a file of it is
// touched (capos-cli/build.rs).
const catalogue = `${JSON.stringify({ format: 1, runtimes }, null, 2)}\n`;
if (!existsSync(cataloguePath) || readFileSync(cataloguePath, 'utf8') !== catalogue) writeAtomically(cataloguePath, catalogue);
