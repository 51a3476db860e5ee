@0xc533c6495474e854;
# Text output to the terminal the system is attached to.

interface Console {
  write @0 (text :Text) -> ();
  # Appends `text` to the terminal. The kernel refuses text that is not
  # valid UTF-8 (BadParams) and text larger than one ring slot can carry.
}
