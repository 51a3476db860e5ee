@0xfd966ae2e034d321;
# Files and directories, as capabilities. A Directory capability reaches its
# own subtree and nothing above it: paths are relative, `..` cannot climb out,
# and a symlink cannot lead out either. A path ending in `/` names a
# directory (POSIX): `file/` is ENOTDIR, and at a new `name/` only a
# directory can be made.
#
# File-system failures are results, not refusals: `errno` carries the WASI
# preview1 errno number (0: success; 44 ENOENT, 20 EEXIST, 54 ENOTDIR,
# 31 EISDIR, 55 ENOTEMPTY, 76 ENOTCAPABLE, 28 EINVAL, 32 ELOOP, ...).

using Cap = import "cap.capnp";

enum FileKind {
  unknown @0;
  directory @1;
  regularFile @2;
  symlink @3;
}

struct Stat {
  ino @0 :UInt64;
  kind @1 :FileKind;
  nlink @2 :UInt64;
  size @3 :UInt64;
  atimeNs @4 :UInt64;
  mtimeNs @5 :UInt64;
  ctimeNs @6 :UInt64;
}

struct DirEntry {
  name @0 :Text;
  ino @1 :UInt64;
  kind @2 :FileKind;
}

struct OpenFlags {
  create @0 :Bool;
  exclusive @1 :Bool;
  truncate @2 :Bool;
  directory @3 :Bool;
  # Fail with ENOTDIR unless the path is a directory.
  followSymlinks @4 :Bool;
}

struct Times {
  atimeNs @0 :UInt64;
  mtimeNs @1 :UInt64;
  setAtime @2 :Bool;
  setMtime @3 :Bool;
  atimeNow @4 :Bool;
  mtimeNow @5 :Bool;
}

interface Directory {
  open @0 (path :Text, flags :OpenFlags) -> (errno :UInt16, cap :Cap.CapRef, kind :FileKind);
  # A File (regular files) or Directory capability for `path`.
  createDirectory @1 (path :Text) -> (errno :UInt16);
  removeDirectory @2 (path :Text) -> (errno :UInt16);
  unlinkFile @3 (path :Text) -> (errno :UInt16);
  rename @4 (path :Text, target :Cap.CapTransfer, newPath :Text) -> (errno :UInt16);
  # `target`: the destination Directory, one of the caller's capabilities
  # (this Directory's own id for a rename within it), transferred with
  # `copy`: the caller keeps it. `move` is refused (BadParams).
  link @5 (path :Text, followSymlinks :Bool, target :Cap.CapTransfer, newPath :Text) -> (errno :UInt16);
  # `target` as for `rename`.
  symlink @6 (target :Text, path :Text) -> (errno :UInt16);
  readlink @7 (path :Text) -> (errno :UInt16, target :Text);
  stat @8 (path :Text, followSymlinks :Bool) -> (errno :UInt16, stat :Stat);
  setTimes @9 (path :Text, followSymlinks :Bool, times :Times) -> (errno :UInt16);
  list @10 (start :UInt32, max :UInt32) -> (entries :List(DirEntry), total :UInt32);
  # Entries `start..start+max` of this directory, `.` and `..` first.
  label @11 () -> (label :Text);
  # The path this directory was granted as (a WASI preopen's name).
  sync @12 () -> (errno :UInt16);
  # As File.sync, for the tree this directory is in.
}

interface File {
  read @0 (offset :UInt64, len :UInt32) -> (errno :UInt16, data :Data);
  write @1 (offset :UInt64, data :Data, append :Bool) -> (errno :UInt16, end :UInt64);
  # `end`: the offset just after what was written (with `append`, the new size).
  stat @2 () -> (stat :Stat);
  truncate @3 (size :UInt64) -> (errno :UInt16);
  setTimes @4 (times :Times) -> (errno :UInt16);
  sync @5 () -> (errno :UInt16);
  # Returns once every change made so far to this file's tree is stored
  # durably: at once for a tree in memory; for a persistent one, when the
  # browser's storage has committed it (EIO, or ENOSPC when storage is
  # full, if it could not). Changes are committed by themselves soon
  # after they are made; sync is how a program knows they were.
}
