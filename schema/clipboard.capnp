@0x9171cc2ae04a839c;
# The system clipboard, as a capability. The page performs every read and
# write (only the main thread may touch the clipboard), and the page may
# refuse: without focus, without the browser's permission, or because the
# person using it said no. A refusal is a `Denied` error with the page's
# reason.

interface Clipboard {
  read @0 (offset :UInt64, max :UInt32) -> (data :Data, size :UInt64);
  # The clipboard's text as UTF-8: up to `max` bytes (at most one ring
  # slot's worth) from `offset`, and its whole size. A read from offset 0
  # asks the page; reads further on are served from what that one got.

  write @1 (text :Text) -> ();
  # Replaces the clipboard's text (what fits in one call).
}
