// A WASI program's imports: each `wasi_snapshot_preview1` function is routed
// to the shim's `wasi_<name>` export (capos-wasi, in Rust), which serves it
// with capabilities. The shim reaches the program's memory only through
// `capos_app`, bounds-checked here: a bad pointer is EFAULT, not a trap.

export const WASI_FUNCTIONS = [
  'args_get', 'args_sizes_get', 'environ_get', 'environ_sizes_get', 'clock_res_get', 'clock_time_get',
  'fd_advise', 'fd_allocate', 'fd_close', 'fd_datasync', 'fd_fdstat_get', 'fd_fdstat_set_flags',
  'fd_fdstat_set_rights', 'fd_filestat_get', 'fd_filestat_set_size', 'fd_filestat_set_times', 'fd_pread',
  'fd_prestat_get', 'fd_prestat_dir_name', 'fd_pwrite', 'fd_read', 'fd_readdir', 'fd_renumber', 'fd_seek',
  'fd_sync', 'fd_tell', 'fd_write', 'path_create_directory', 'path_filestat_get', 'path_filestat_set_times',
  'path_link', 'path_open', 'path_readlink', 'path_remove_directory', 'path_rename', 'path_symlink',
  'path_unlink_file', 'poll_oneoff', 'proc_exit', 'proc_raise', 'sched_yield', 'random_get',
  'sock_accept', 'sock_recv', 'sock_send', 'sock_shutdown',
];

// capOS's own import module for WASI programs (capos-wasi/src/http.rs):
// HTTP through the Fetch / HttpEndpoint capabilities the program holds.
export const CAPOS_HTTP_FUNCTIONS = ['request', 'headers', 'read', 'close', 'last_error'];

const EFAULT = 21;

// `appMemory()` is the program's memory, `shimMemory()` the shim's.
export function appAccess(appMemory, shimMemory) {
  const inApp = (ptr, len) => ptr + len <= appMemory().buffer.byteLength;
  return {
    app_read: (appPtr, len, dst) => {
      appPtr >>>= 0; len >>>= 0;
      if (!inApp(appPtr, len)) return EFAULT;
      new Uint8Array(shimMemory().buffer, dst >>> 0, len).set(new Uint8Array(appMemory().buffer, appPtr, len));
      return 0;
    },
    app_write: (appPtr, src, len) => {
      appPtr >>>= 0; len >>>= 0;
      if (!inApp(appPtr, len)) return EFAULT;
      new Uint8Array(appMemory().buffer, appPtr, len).set(new Uint8Array(shimMemory().buffer, src >>> 0, len));
      return 0;
    },
  };
}

export function wasiImports(shim) {
  const table = {};
  for (const name of WASI_FUNCTIONS) {
    const serve = shim.exports[`wasi_${name}`];
    if (typeof serve !== 'function') throw new Error(`WASI shim lacks ${name}`);
    table[name] = serve;
  }
  return table;
}

export function caposHttpImports(shim) {
  const table = {};
  for (const name of CAPOS_HTTP_FUNCTIONS) {
    const serve = shim.exports[`http_${name}`];
    if (typeof serve !== 'function') throw new Error(`WASI shim lacks capos_http.${name}`);
    table[name] = serve;
  }
  return table;
}
