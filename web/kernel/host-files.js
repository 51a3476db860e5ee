// The browser half of `capos run --dir`'s host files (the kernel's caps/fs.rs): a file
// left on the host is read from the CLI's server the first time a program opens it
// (`hostFileRead`), and at halt each changed file's bytes go back with a PUT
// (`hostFileWrite`). The kernel checked each URL against the manifest's rules; it is checked
// here again, since it is fetched with this Worker's authority: a path of this site under
// /hostfs/.

const PREFIX = '/hostfs/';

export function hostFileUrl(path, origin) {
  if (typeof path !== 'string' || !path.startsWith(PREFIX) || !/^[A-Za-z0-9/_-]+$/.test(path)) return null;
  const url = new URL(path, origin);
  return url.origin === origin && url.pathname === path ? url : null;
}

export class HostFiles {
  // `reply(action)` runs `action(kernel)` unless the kernel is gone.
  constructor(reply, origin = self.location.origin) {
    this.reply = reply;
    this.origin = origin;
    this.sending = new Set(); // uploads not yet answered
  }

  request(id, request, payload) {
    const url = hostFileUrl(request.url, this.origin);
    if (!url) {
      this.reply((k) => k.hostFailed(id, 'denied', `not a host file path: ${String(request.url).slice(0, 200)}`));
      return;
    }
    if (request.op === 'hostFileRead') {
      this.read(id, url);
    } else {
      // A view into kernel memory: copied now.
      const upload = this.write(id, url, payload.slice());
      this.sending.add(upload);
      upload.finally(() => this.sending.delete(upload));
    }
  }

  async read(id, url) {
    try {
      const response = await fetch(url, { cache: 'no-store' });
      if (!response.ok) {
        const why = (await response.text()).slice(0, 1000).trim();
        this.reply((k) => k.hostFailed(id, 'other', `${url.pathname}: ${response.status} ${why}`));
        return;
      }
      const bytes = new Uint8Array(await response.arrayBuffer());
      this.reply((k) => k.hostFileData(id, bytes));
    } catch (err) {
      this.reply((k) => k.hostFailed(id, 'network', `${url.pathname}: ${err.message}`));
    }
  }

  async write(id, url, bytes) {
    try {
      // As a Blob: a driving DevTools client is not sent the bytes of a
      // Blob body with each request (it is with an ArrayBuffer body).
      const response = await fetch(url, { method: 'PUT', body: new Blob([bytes]) });
      if (response.ok) this.reply((k) => k.hostDone(id));
      else this.reply((k) => k.hostFailed(id, 'other', `${url.pathname}: ${response.status}`));
    } catch (err) {
      this.reply((k) => k.hostFailed(id, 'network', `${url.pathname}: ${err.message}`));
    }
  }

  // Resolves once every upload sent so far has been answered.
  settled() {
    return Promise.allSettled([...this.sending]);
  }
}
