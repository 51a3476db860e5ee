// A .zip of files, written here rather than with a library: the format
// needed is small (local headers, a central directory, CRC-32), and the
// browser's CompressionStream does the deflating. Each file is deflated
// and stored that way only if that made it smaller. Names are UTF-8 (flag
// bit 11); directories end in "/"; a symlink is stored as its target with
// the Unix symlink mode, as Info-ZIP does. Past the classic format's limits
// (65,535 entries, 4 GiB) it refuses rather than write a broken archive.

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const LIMIT = 0xffffffff;
const MODE = { file: 0o100644, dir: 0o40755, symlink: 0o120777 };

// MS-DOS time and date of `ms` (local time, as zip tools read it; 1980 at the earliest).
function dosTime(ms) {
  const d = new Date(Number.isFinite(ms) ? ms : Date.now());
  const year = Math.max(1980, Math.min(2107, d.getFullYear()));
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

async function deflate(bytes) {
  if (typeof CompressionStream !== 'function' || bytes.length < 64) return null;
  try {
    const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream('deflate-raw'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch {
    return null; // 'deflate-raw' unsupported: store it
  }
}

// A Blob of a zip holding `entries`: [{path, kind: 'file'|'dir'|'symlink',
// data: Uint8Array, mtimeMs}] with relative paths. `progress(done, total)`
// is called as files are packed.
export async function zipBlob(entries, progress = () => {}) {
  if (entries.length > 0xffff) throw new Error(`${entries.length} entries: a .zip holds at most 65,535`);
  const encoder = new TextEncoder();
  const parts = [];
  const central = [];
  let offset = 0;
  let done = 0;
  for (const entry of entries) {
    const name = encoder.encode(entry.kind === 'dir' ? `${entry.path}/` : entry.path);
    const data = entry.kind === 'dir' ? new Uint8Array() : entry.data;
    if (data.length >= LIMIT) throw new Error(`${entry.path}: 4 GiB or more does not fit a .zip without Zip64`);
    const crc = crc32(data);
    const packed = entry.kind === 'file' ? await deflate(data) : null;
    const deflated = packed !== null && packed.length < data.length;
    const body = deflated ? packed : data;
    const { time, date } = dosTime(entry.mtimeMs);
    const fields = { method: deflated ? 8 : 0, time, date, crc, size: body.length, rawSize: data.length, nameLength: name.length };
    const local = header(0x04034b50, fields);
    parts.push(local, name, body);
    central.push({ fields, name, offset, mode: MODE[entry.kind] });
    offset += local.length + name.length + body.length;
    if (offset >= LIMIT) throw new Error('the archive passes 4 GiB, which needs Zip64');
    progress(++done, entries.length);
  }
  const start = offset;
  for (const c of central) {
    const h = header(0x02014b50, c.fields, c);
    parts.push(h, c.name);
    offset += h.length + c.name.length;
  }
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, central.length, true);
  end.setUint16(10, central.length, true);
  end.setUint32(12, offset - start, true);
  end.setUint32(16, start, true);
  parts.push(new Uint8Array(end.buffer));
  return new Blob(parts, { type: 'application/zip' });
}

// A local (signature 0x04034b50) or central (0x02014b50) file header,
// without its name.
function header(signature, f, central = null) {
  const v = new DataView(new ArrayBuffer(central ? 46 : 30));
  let at = 0;
  const u16 = (x) => { v.setUint16(at, x, true); at += 2; };
  const u32 = (x) => { v.setUint32(at, x, true); at += 4; };
  u32(signature);
  if (central) u16(0x031e); // made by: Unix, zip 3.0
  u16(20); // needed: 2.0
  u16(0x0800); // UTF-8 names
  u16(f.method);
  u16(f.time);
  u16(f.date);
  u32(f.crc);
  u32(f.size);
  u32(f.rawSize);
  u16(f.nameLength);
  u16(0); // extra field
  if (central) {
    u16(0); // comment
    u16(0); // disk
    u16(0); // internal attributes
    u32((central.mode << 16) >>> 0);
    u32(central.offset);
  }
  return new Uint8Array(v.buffer);
}
