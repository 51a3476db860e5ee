// The browser half of `capos run --dir`'s host files (the kernel's
// caps/fs.rs, `HostFileRead`): a file left on the host is read from the
// CLI's server the first time a program opens it. The kernel checked the
// URL against the manifest's rules; it is checked here again, since it is
// fetched with this Worker's authority: a path of this site under /hostfs/.

const PREFIX = '/hostfs/';

export function hostFileUrl(path, origin) {
  if (typeof path !== 'string' || !path.startsWith(PREFIX) || !/^[A-Za-z0-9/_-]+$/.test(path)) return null;
  const url = new URL(path, origin);
  return url.origin === origin && url.pathname === path ? url : null;
}

// Reads host file `request.url` for host request `id`; `reply(action)`
// hands the answer to the kernel.
export async function readHostFile(id, request, reply) {
  const url = hostFileUrl(request.url, self.location.origin);
  if (!url) {
    reply((k) => k.hostFailed(id, 'denied', `not a host file path: ${String(request.url).slice(0, 200)}`));
    return;
  }
  try {
    const response = await fetch(url, { cache: 'no-store' });
    if (!response.ok) {
      const why = (await response.text()).slice(0, 1000).trim();
      reply((k) => k.hostFailed(id, 'other', `${url.pathname}: ${response.status} ${why}`));
      return;
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    reply((k) => k.hostFileData(id, bytes));
  } catch (err) {
    reply((k) => k.hostFailed(id, 'network', `${url.pathname}: ${err.message}`));
  }
}
