# make bench's interp_compute_s for RustPython: CPU-bound work (a sieve, string
# building, dict churn) timed by the program's own monotonic clock, so start-up
# is left out and capOS and wasmtime are compared on the work alone.
import time

started = time.perf_counter()
checksum = 0
for _ in range(12):
    n = 30_000
    sieve = bytearray(n + 1)
    primes = 0
    for i in range(2, n + 1):
        if sieve[i]:
            continue
        primes += 1
        for j in range(i * i, n + 1, i):
            sieve[j] = 1
    counts = {}
    for i in range(5_000):
        w = f"w{i % 97}-{i}"
        counts[w[:3]] = counts.get(w[:3], 0) + 1
    checksum += primes + len(counts)
seconds = time.perf_counter() - started
print(f"interp_compute checksum={checksum} seconds={seconds:.4f}")
