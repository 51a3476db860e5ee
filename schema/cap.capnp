@0xb38718cae15031db;
# How capabilities travel in messages.
#
# A capability is never a bare number a process can make up: a `CapRef` names
# a slot in the receiving process's own CapTable, written there by the kernel
# when it delivered the capability; a `CapTransfer` names a slot in the
# sender's table that the kernel moves or copies out. The kernel checks
# every id against the table of the process that sent it.

struct CapRef {
  capId @0 :UInt32;
  interfaceId @1 :UInt64;
}

enum TransferMode {
  copy @0;
  # The sender keeps its capability; the receiver gets another reference to
  # the same object (same badge).
  move @1;
  # The capability leaves the sender's table (its id there becomes stale).
}

struct CapTransfer {
  capId @0 :UInt32;
  mode @1 :TransferMode;
}
