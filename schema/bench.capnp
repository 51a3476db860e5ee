@0xa773d4f617138ec8;
# The cheapest call the kernel serves, for measuring the ring.

interface Echo {
  echo @0 (value :UInt64) -> (value :UInt64);
  # Returns `value`. A full trip through the kernel's dispatch: the params
  # are decoded, the CapId looked up, the results encoded, a CQE posted.
}
