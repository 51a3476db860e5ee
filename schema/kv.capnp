@0x9e4c7a1d2b58f063;
# A key-value store that outlives the page: IndexedDB in the browser, one
# namespace per manifest (two manifests never see each other's keys).
#
# Keys are non-empty UTF-8 text of at most 1024 bytes. Values are bytes, up
# to 64 MiB; one larger than a call carries is read in parts (`get` with an
# offset) and written through a `KvWriter`. Failures are error completions:
# `BadParams` (a bad key), `TooLarge` (a value over the limit),
# `Exhausted` (the browser's storage quota is full: nothing was written),
# `Internal` (the browser's storage failed, with its message).

using Cap = import "cap.capnp";

interface KvStore {
  get @0 (key :Text, offset :UInt64, max :UInt32) -> (found :Bool, size :UInt64, data :Data);
  # Up to `max` bytes (at most one ring slot's worth) of the value from
  # `offset`, and the value's whole size.

  put @1 (key :Text, value :Data) -> ();
  # Stores `value` (what fits in one call) under `key`, replacing any.

  delete @2 (key :Text) -> (existed :Bool);

  list @3 (prefix :Text, after :Text, max :UInt32) -> (keys :List(Text), more :Bool);
  # Keys that start with `prefix`, in order, from the first one after
  # `after` (empty: from the start); at most `max` (and 256) of them.

  writer @4 (key :Text) -> (writer :Cap.CapRef);
  # A KvWriter that stores a value of any size under `key` when committed.
}

interface KvWriter {
  write @0 (data :Data) -> (size :UInt64);
  # Appends to the value being written; returns its size so far.

  commit @1 () -> ();
  # Stores the whole value at once, replacing any: a reader sees the old
  # value or the new one, never part of it. Dropping the writer without
  # committing stores nothing.
}
