@0xf63274e2dd034183;
# A framebuffer shown on the page. A process draws RGBA pixels into it and
# presents frames; the page shows each on a canvas. The page's side of it is
# events: the pane was resized, or closed.

interface Display {
  size @0 () -> (width :UInt32, height :UInt32);

  resize @1 (width :UInt32, height :UInt32) -> ();
  # A new size (at most 1920 x 1080); the pixels become black.

  put @2 (x :UInt32, y :UInt32, width :UInt32, height :UInt32, rgba :Data) -> ();
  # Copies a width x height rectangle of RGBA pixels (4 bytes each, rows
  # top to bottom) to (x, y). It must lie inside the display and `rgba`
  # must be exactly width * height * 4 bytes. Several calls make a frame.

  present @3 () -> (frame :UInt64);
  # Shows what has been drawn. Completes once the page has drawn the frame
  # (so a loop of present calls runs at the page's pace); fails with
  # PeerGone once the page has closed the display.

  nextEvent @4 (timeoutNs :UInt64) -> (event :DisplayEvent, width :UInt32, height :UInt32);
  # The next event from the page, or `none` after `timeoutNs`.
}

enum DisplayEvent {
  none @0;
  resized @1;
  # The pane the display is shown in changed size: `width` x `height`
  # would fill it. The display keeps its size unless the process resizes it.
  closed @2;
  # The person closed the display: presents fail from now on.
}
