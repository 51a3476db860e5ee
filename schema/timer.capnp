@0x875f96eb3713ca1d;
# Time, as a capability: a process without one cannot read a clock.

interface Timer {
  now @0 () -> (ns :UInt64);
  # Monotonic nanoseconds since the kernel started (the browser's
  # performance.now(), so its resolution is the browser's: 5 us in a
  # cross-origin-isolated Worker).

  sleep @1 (ns :UInt64) -> ();
  # Completes after at least `ns` nanoseconds; the process blocks, the
  # kernel does not.

  realtime @2 () -> (ns :UInt64);
  # Nanoseconds since the Unix epoch (the browser's wall clock).
}
