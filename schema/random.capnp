@0xa91def09ea929a81;
# Randomness, as a capability.

interface RandomSource {
  fill @0 (len :UInt32) -> (data :Data);
  # `len` bytes (at most 1024 per call) from the browser's
  # crypto.getRandomValues.
}
