// A process's memory limit, enforced by the module itself: its memory's
// declared maximum is lowered to the limit before it is compiled, so a
// memory.grow past the limit fails inside the program (an allocation
// failure, then a trap), the Worker never holds more, and the tab survives.
// The module's bytes are otherwise untouched.

const PAGE = 65536;

// The module is fine; it just cannot run within its limit. (Any other error
// means the bytes are not a well-formed module.)
export class MemoryOverLimit extends Error {}
const MEMORY_SECTION = 5;

// Returns the module bytes with every defined memory's maximum at most
// `maxPages`. Throws if a memory's initial size is already over the limit
// (the program could not start within it) or the bytes are not a module.
export function limitMemory(bytes, maxPages) {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new Error('not a WebAssembly module');
  }
  const reader = { bytes, at: 8 };
  while (reader.at < bytes.length) {
    const sectionStart = reader.at;
    const id = bytes[reader.at++];
    const size = readU32(reader);
    const bodyStart = reader.at;
    const bodyEnd = bodyStart + size;
    if (bodyEnd > bytes.length) throw new Error('a section runs past the end of the module');
    if (id === MEMORY_SECTION) {
      const body = rewriteMemories(bytes.subarray(bodyStart, bodyEnd), maxPages);
      const header = [MEMORY_SECTION, ...encodeU32(body.length)];
      const out = new Uint8Array(sectionStart + header.length + body.length + (bytes.length - bodyEnd));
      out.set(bytes.subarray(0, sectionStart), 0);
      out.set(header, sectionStart);
      out.set(body, sectionStart + header.length);
      out.set(bytes.subarray(bodyEnd), sectionStart + header.length + body.length);
      return out;
    }
    reader.at = bodyEnd;
  }
  return bytes; // No memory of its own to limit.
}

function rewriteMemories(body, maxPages) {
  const reader = { bytes: body, at: 0 };
  const count = readU32(reader);
  const out = [...encodeU32(count)];
  for (let i = 0; i < count; i++) {
    const flags = body[reader.at++];
    if (flags & ~0x03) throw new Error(`memory ${i}: limits flags 0x${flags.toString(16)} are not supported`);
    const initial = readU32(reader);
    const declared = flags & 0x01 ? readU32(reader) : Infinity;
    if (initial > maxPages) {
      throw new MemoryOverLimit(`its memory starts at ${mib(initial)} MiB, over its limit of ${mib(maxPages)} MiB`);
    }
    out.push(flags | 0x01, ...encodeU32(initial), ...encodeU32(Math.min(declared, maxPages)));
  }
  if (reader.at !== body.length) throw new Error('the memory section has trailing bytes');
  return Uint8Array.from(out);
}

const mib = (pages) => (pages * PAGE) / (1024 * 1024);

function readU32(reader) {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (reader.at >= reader.bytes.length || shift > 28) throw new Error('a malformed LEB128 number');
    const byte = reader.bytes[reader.at++];
    result += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return result;
    shift += 7;
  }
}

function encodeU32(value) {
  const out = [];
  let v = value;
  do {
    let byte = v & 0x7f;
    v = Math.floor(v / 128);
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

export const PAGE_BYTES = PAGE;
