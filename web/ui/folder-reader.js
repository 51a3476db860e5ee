// Reads a folder a person chose (the directory picker, an <input
// webkitdirectory>) or dropped, into {name, files: [{path, data}], skipped:
// [{path, reason}]}, paths relative to the folder. What is not a regular
// file that can be read (a special file, a link the browser will not
// follow, a file that vanished) is skipped and listed, never dropped
// silently. `progress(read, total)` follows the reading.

const readBytes = async (file) => new Uint8Array(await file.arrayBuffer());

async function collect(candidates, progress) {
  const files = [];
  const skipped = [];
  let done = 0;
  for (const { path, open } of candidates) {
    try {
      files.push({ path, data: await readBytes(await open()) });
    } catch (err) {
      skipped.push({ path, reason: `${err?.name || 'Error'}: ${err?.message || err}` });
    }
    progress(++done, candidates.length);
  }
  return { files, skipped };
}

// A FileSystemDirectoryHandle (showDirectoryPicker).
export async function readDirectoryHandle(dir, progress = () => {}) {
  const candidates = [];
  const skipped = [];
  const walk = async (handle, prefix) => {
    for await (const [name, child] of handle.entries()) {
      const path = prefix ? `${prefix}/${name}` : name;
      if (child.kind === 'file') candidates.push({ path, open: () => child.getFile() });
      else if (child.kind === 'directory') await walk(child, path);
      else skipped.push({ path, reason: `not a file or a directory (${child.kind})` });
    }
  };
  await walk(dir, '');
  const read = await collect(candidates, progress);
  return { name: dir.name, files: read.files, skipped: [...skipped, ...read.skipped] };
}

// The FileList of an <input webkitdirectory>: each file's
// webkitRelativePath starts with the folder's name.
export async function readInputFiles(list, progress = () => {}) {
  const all = [...list];
  const name = all[0]?.webkitRelativePath.split('/')[0] || 'upload';
  const candidates = all.map((file) => ({
    path: file.webkitRelativePath ? file.webkitRelativePath.split('/').slice(1).join('/') : file.name,
    open: async () => file,
  }));
  return { name, ...(await collect(candidates, progress)) };
}

// What was dropped: one folder (read whole), or files (read as they are).
export async function readDropped(dataTransfer, progress = () => {}) {
  const entries = [...dataTransfer.items]
    .filter((item) => item.kind === 'file')
    .map((item) => item.webkitGetAsEntry?.())
    .filter(Boolean);
  if (entries.length === 1 && entries[0].isDirectory) {
    const candidates = [];
    const skipped = [];
    const walk = async (dir, prefix) => {
      const reader = dir.createReader();
      for (;;) {
        const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
        if (batch.length === 0) break;
        for (const entry of batch) {
          const path = prefix ? `${prefix}/${entry.name}` : entry.name;
          if (entry.isFile) candidates.push({ path, open: () => new Promise((resolve, reject) => entry.file(resolve, reject)) });
          else if (entry.isDirectory) await walk(entry, path);
          else skipped.push({ path, reason: 'not a file or a directory' });
        }
      }
    };
    await walk(entries[0], '');
    const read = await collect(candidates, progress);
    return { name: entries[0].name, folder: true, files: read.files, skipped: [...skipped, ...read.skipped] };
  }
  const files = [...dataTransfer.files];
  const candidates = files.map((file) => ({ path: file.name, open: async () => file }));
  return { name: files.length === 1 ? files[0].name : 'dropped', folder: false, ...(await collect(candidates, progress)) };
}
