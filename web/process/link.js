// Matches a module's imports against what its host provides, before
// instantiating: the browser's own error for a missing import ("module is
// not an object or function") names neither the import nor a way out.

/**
 * The import object for `module`: `provided` as it is when it covers every
 * import. Otherwise an Error naming the first unknown import, unless
 * `trapUnknown` (wasmtime's --trap-unknown-imports): then each unknown
 * function import becomes one that traps when called, and the rest of the
 * program runs.
 */
export function linkImports(module, provided, trapUnknown) {
  const imports = { ...provided };
  for (const { module: from, name, kind } of WebAssembly.Module.imports(module)) {
    if (Object.hasOwn(provided, from) && Object.hasOwn(provided[from], name)) continue;
    const what = `${from}::${name}`;
    if (!trapUnknown || kind !== 'function') {
      const hint = kind === 'function'
        ? '; run it with --trap-unknown-imports to start it anyway (the import traps if called)'
        : ` (a ${kind}: only function imports can be left to trap)`;
      throw new Error(`unknown import: \`${what}\` (${kind}) has not been defined${hint}`);
    }
    imports[from] = { ...imports[from] };
    imports[from][name] = () => {
      throw new WebAssembly.RuntimeError(`called the unknown import \`${what}\``);
    };
  }
  return imports;
}
