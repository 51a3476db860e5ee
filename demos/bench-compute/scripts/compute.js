// make bench's interp_compute_s for QuickJS: CPU-bound work (a sieve, string
// building, object churn) timed by the program's own monotonic clock, so
// start-up is left out and capOS and wasmtime are compared on the work alone.
const started = performance.now();
let checksum = 0;
for (let round = 0; round < 6; round++) {
  const n = 200_000;
  const sieve = new Uint8Array(n + 1);
  let primes = 0;
  for (let i = 2; i <= n; i++) {
    if (sieve[i]) continue;
    primes++;
    for (let j = i * i; j <= n; j += i) sieve[j] = 1;
  }
  const words = [];
  for (let i = 0; i < 20_000; i++) words.push(`w${i % 97}-${i}`);
  const counts = {};
  for (const w of words) counts[w.slice(0, 3)] = (counts[w.slice(0, 3)] ?? 0) + 1;
  checksum += primes + Object.keys(counts).length;
}
const seconds = (performance.now() - started) / 1000;
console.log(`interp_compute checksum=${checksum} seconds=${seconds.toFixed(4)}`);
