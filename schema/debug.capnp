@0x9871211ac6e4a459;
# Capabilities that exist only to test the kernel.

interface KernelPanicTrigger {
  trigger @0 (reason :Text) -> ();
  # Panics the kernel with `reason`. Never returns: the kernel halts and
  # every Worker is torn down.
}
