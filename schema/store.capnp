@0xc54b003a95989c6f;
# A persistent store's index: how the kernel lays a directory tree out in the
# browser's storage (docs/files.md). The host keeps it as opaque bytes beside
# the blobs it names, and replaces it atomically on each commit: a store is
# always the old tree or the new one, never a mix.

struct StoreIndex {
  nextBlob @0 :UInt64;
  # The next blob id to hand out: ids are never reused, so a commit writes
  # only fresh blobs and the ones the old index names stay intact until the
  # new index is in place.
  entries @1 :List(StoreEntry);
  # The root first (path ""), then every parent before its children.
}

struct StoreEntry {
  path @0 :Text;
  # Relative to the store's root, "/"-separated.
  atimeNs @1 :UInt64;
  mtimeNs @2 :UInt64;
  union {
    directory @3 :Void;
    file @4 :UInt64;
    # The blob holding its bytes; hard links share one.
    symlink @5 :Text;
  }
}
