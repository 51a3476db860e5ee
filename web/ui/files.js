// The file browser: the boot's file trees as the kernel shows them (view
// models: paths, sizes, times; never a capability), and what a person does
// with them: open a file, rename, delete, upload into a folder, download a
// folder as a .zip. Every change is asked of the kernel, which applies it
// as a program's call would be, and the next view shows the result.

import { zipBlob } from './zip.js';
import { readDirectoryHandle, readDropped, readInputFiles } from './folder-reader.js';

// Upload batches: at most this many files or bytes per message to the kernel.
const BATCH_FILES = 256;
const BATCH_BYTES = 16 << 20;
// A file the viewer shows: at most this many bytes of it.
const VIEW_BYTES = 256 << 10;

const el = (tag, { dataset = {}, ...props } = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  Object.assign(node.dataset, dataset);
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
};

export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let i = -1;
  do { n /= 1024; i++; } while (n >= 1024 && i < units.length - 1);
  return `${n.toFixed(n < 10 ? 1 : 0)} ${units[i]}`;
}

const when = (ms) => new Date(ms).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });

// `request(message)` sends a file request to the kernel and resolves with
// its answer; `progress` is the transfer bar ({show(label, done, total), hide()}).
export function createFiles(root, { request, progress }) {
  let mounts = [];
  const expanded = new Set(); // "index:path" of open folders
  let target = null; // {index, path}: where an upload goes
  const messages = el('div', { className: 'files-messages', role: 'log' });
  const list = el('div', { className: 'files-list' });
  const viewer = el('section', { className: 'files-viewer', hidden: true });
  root.replaceChildren(list, viewer, messages);

  const say = (text, bad = false) => {
    const line = el('p', { className: bad ? 'bad' : '', textContent: text });
    messages.append(line);
    while (messages.childElementCount > 8) messages.firstElementChild.remove();
  };

  const uploadTarget = () => {
    if (target && mounts[target.index]) return target;
    const home = mounts.find((m) => m.store) ?? mounts[0];
    return home ? { index: home.index, path: '' } : null;
  };
  const noTarget = () => say(mounts.length ? 'nothing to upload into' : '/home is still loading, or this boot has no files: try again in a moment', true);

  // Copies `read` ({name, files, skipped}) into `at` ({index, path}), under
  // its own folder if `asFolder`.
  async function upload(read, at, asFolder) {
    const base = [at.path, asFolder ? read.name : ''].filter(Boolean).join('/');
    const mount = mounts[at.index];
    const total = read.files.length;
    const bytes = read.files.reduce((n, f) => n + f.data.length, 0);
    let done = 0;
    let failed = 0;
    const failures = [];
    for (let i = 0; i < total;) {
      const batch = [];
      let size = 0;
      while (i < total && batch.length < BATCH_FILES && (batch.length === 0 || size + read.files[i].data.length <= BATCH_BYTES)) {
        const f = read.files[i++];
        batch.push({ op: 'write', path: base ? `${base}/${f.path}` : f.path, data: f.data });
        size += f.data.length;
      }
      progress.show(`copying into ${mount.guest}/${base}`, done, total);
      const answer = await request({ type: 'editFiles', mount: at.index, edits: batch });
      done += batch.length;
      failed += answer.failed ?? (answer.ok ? 0 : batch.length);
      if (!answer.ok) failures.push(answer.message);
    }
    progress.hide();
    const where = `${mount.guest}${base ? `/${base}` : ''}`;
    say(`copied ${total - failed} of ${total} files (${formatBytes(bytes)}) into ${where}`, failed > 0);
    for (const f of failures.slice(0, 3)) say(f, true);
    if (read.skipped.length) {
      say(`skipped ${read.skipped.length}: ${read.skipped.slice(0, 10).map((s) => `${s.path} (${s.reason})`).join('; ')}`, true);
    }
    return failed === 0;
  }

  async function pickAndUpload(folder) {
    const at = uploadTarget();
    if (!at) return noTarget();
    try {
      const read = folder ? await pickFolder(progress) : await pickFiles(progress);
      if (read) await upload(read, at, folder);
    } catch (err) {
      progress.hide();
      if (err?.name !== 'AbortError') say(`upload failed: ${err.message}`, true);
    }
  }

  async function download(index, path, kind) {
    const answer = await request({ type: 'readFiles', mount: index, path });
    if (!answer.ok) return say(answer.message, true);
    const name = path.split('/').pop() || mounts[index].guest.split('/').pop() || 'files';
    let blob;
    let file = name;
    if (kind === 'file') {
      blob = new Blob([answer.entries[0].data]);
    } else {
      const entries = answer.entries.filter((e) => e.path !== '');
      blob = await zipBlob(entries, (done, total) => progress.show(`zipping ${name}`, done, total));
      progress.hide();
      file = `${name}.zip`;
    }
    const a = el('a', { href: URL.createObjectURL(blob), download: file });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
    say(`downloaded ${file} (${formatBytes(blob.size)})`);
  }

  async function show(index, path) {
    const answer = await request({ type: 'readFiles', mount: index, path });
    if (!answer.ok) return say(answer.message, true);
    const data = answer.entries[0].data;
    let text;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(data.subarray(0, VIEW_BYTES));
    } catch {
      const hex = [...data.subarray(0, 512)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
      text = `(binary, ${formatBytes(data.length)}; the first ${Math.min(512, data.length)} bytes)\n${hex}`;
    }
    const more = data.length > VIEW_BYTES ? `\n… (${formatBytes(data.length - VIEW_BYTES)} more)` : '';
    viewer.replaceChildren(
      el('div', { className: 'files-viewer-bar' },
        el('span', { textContent: `${mounts[index].guest}/${path}` }),
        el('button', { type: 'button', textContent: 'close', onclick: () => { viewer.hidden = true; } })),
      el('pre', { textContent: text + more }));
    viewer.hidden = false;
  }

  async function edit(index, edits) {
    const answer = await request({ type: 'editFiles', mount: index, edits });
    if (!answer.ok) say(answer.message, true);
  }

  function row(mount, entry) {
    const depth = entry.path.split('/').length - 1;
    const name = entry.path.split('/').pop();
    const key = `${mount.index}:${entry.path}`;
    const isDir = entry.kind === 'dir';
    const open = expanded.has(key);
    const label = el('button', {
      type: 'button',
      className: `files-name ${entry.kind}`,
      textContent: `${isDir ? (open ? '▾ ' : '▸ ') : entry.kind === 'symlink' ? '↪ ' : ''}${name}`,
      title: isDir ? 'open or close; uploads go into the folder last opened' : 'show',
      onclick: () => {
        if (isDir) {
          if (open) expanded.delete(key); else expanded.add(key);
          target = { index: mount.index, path: entry.path };
          render();
        } else if (entry.kind === 'file') {
          show(mount.index, entry.path);
        }
      },
    });
    label.style.paddingLeft = `${depth * 12}px`;
    const actions = el('span', { className: 'files-actions' },
      el('button', {
        type: 'button', textContent: 'rename', title: 'rename or move (a path in this tree)',
        onclick: () => {
          const to = prompt(`rename ${entry.path} to`, entry.path);
          if (to && to !== entry.path) edit(mount.index, [{ op: 'rename', path: entry.path, to: to.replace(/^\/+/, '') }]);
        },
      }),
      el('button', {
        type: 'button', textContent: 'delete', title: isDir ? 'delete the folder and all it holds' : 'delete',
        onclick: () => {
          if (confirm(`delete ${mount.guest}/${entry.path}${isDir ? ' and everything in it' : ''}?`)) {
            edit(mount.index, [{ op: 'remove', path: entry.path }]);
          }
        },
      }),
      entry.kind === 'symlink' ? null : el('button', {
        type: 'button', textContent: isDir ? '.zip' : 'download',
        onclick: () => download(mount.index, entry.path, entry.kind),
      }));
    const selected = target && target.index === mount.index && target.path === entry.path;
    return el('div', { className: `files-row${selected ? ' selected' : ''}`, dataset: { path: entry.path, kind: entry.kind } },
      label,
      el('span', { className: 'files-size', textContent: entry.kind === 'file' ? formatBytes(entry.size) : '' }),
      el('span', { className: 'files-time', textContent: when(entry.mtimeMs) }),
      actions);
  }

  function visible(mount) {
    // A row shows when every folder above it is open.
    return mount.entries.filter((e) => {
      const parts = e.path.split('/');
      for (let i = 1; i < parts.length; i++) {
        if (!expanded.has(`${mount.index}:${parts.slice(0, i).join('/')}`)) return false;
      }
      return true;
    });
  }

  function render() {
    const at = uploadTarget();
    list.replaceChildren(...mounts.map((mount) => {
      const kind = mount.store
        ? `persistent (store "${mount.store}")${mount.granted ? '' : ', not granted to this boot\'s programs'}`
        : 'in memory, gone at the next boot';
      const usage = `${formatBytes(mount.usedBytes)}${mount.quotaBytes ? ` of ${formatBytes(mount.quotaBytes)}` : ''}`;
      const here = at && at.index === mount.index;
      return el('section', { className: 'files-mount', dataset: { guest: mount.guest } },
        el('div', { className: 'files-mount-bar' },
          el('button', {
            type: 'button', className: 'files-guest', textContent: mount.guest,
            title: 'upload into the top of this tree', onclick: () => { target = { index: mount.index, path: '' }; render(); },
          }),
          el('span', { className: 'files-kind', textContent: `${kind} · ${usage}` }),
          el('button', { type: 'button', textContent: '.zip', title: 'download the whole tree', onclick: () => download(mount.index, '', 'dir') }),
          el('button', {
            type: 'button', textContent: 'new folder',
            onclick: () => {
              const base = here ? at.path : '';
              const name = prompt('new folder', base ? `${base}/` : '');
              if (name) edit(mount.index, [{ op: 'mkdir', path: name.replace(/^\/+/, '') }]);
            },
          })),
        here ? el('p', { className: 'files-target', textContent: `uploads go into ${mount.guest}${at.path ? `/${at.path}` : ''}` }) : null,
        ...visible(mount).map((e) => row(mount, e)),
        mount.entries.length === 0 ? el('p', { className: 'hint', textContent: 'empty' }) : null,
        mount.omitted ? el('p', { className: 'bad', textContent: `${mount.omitted} more entries not listed` }) : null);
    }));
    if (mounts.length === 0) list.append(el('p', { className: 'hint', textContent: 'This boot has no files.' }));
  }

  root.addEventListener('dragover', (event) => event.preventDefault());
  root.addEventListener('drop', async (event) => {
    event.preventDefault();
    event.stopPropagation();
    const at = uploadTarget();
    if (!at) return noTarget();
    try {
      const read = await readDropped(event.dataTransfer, (done, total) => progress.show('reading', done, total));
      await upload(read, at, read.folder);
    } catch (err) {
      progress.hide();
      say(`upload failed: ${err.message}`, true);
    }
  });

  return {
    update(view) {
      mounts = view.mounts;
      render();
    },
    storeFailed(store, message) {
      say(`store "${store}": ${message}`, true);
    },
    uploadFolder: () => pickAndUpload(true),
    uploadFiles: () => pickAndUpload(false),
    reset() {
      mounts = [];
      target = null;
      viewer.hidden = true;
      render();
    },
  };
}

// A folder the person picks: the directory picker where there is one,
// else an <input webkitdirectory>. Null if they cancel.
export async function pickFolder(progress) {
  if (typeof globalThis.showDirectoryPicker === 'function') {
    const dir = await globalThis.showDirectoryPicker({ mode: 'read' });
    return readDirectoryHandle(dir, (done, total) => progress.show(`reading ${dir.name}`, done, total));
  }
  return pickWithInput({ webkitdirectory: true, multiple: true }, (files) => readInputFiles(files,
    (done, total) => progress.show('reading', done, total)));
}

async function pickFiles(progress) {
  return pickWithInput({ multiple: true }, async (files) => {
    const read = await readInputFiles(files, (done, total) => progress.show('reading', done, total));
    return { ...read, name: '' };
  });
}

function pickWithInput(props, read) {
  return new Promise((resolve, reject) => {
    const input = el('input', { type: 'file', hidden: true, ...props });
    input.addEventListener('change', () => {
      input.remove();
      if (input.files.length) read(input.files).then(resolve, reject);
      else resolve(null);
    });
    input.addEventListener('cancel', () => { input.remove(); resolve(null); });
    document.body.append(input);
    input.click();
  });
}
