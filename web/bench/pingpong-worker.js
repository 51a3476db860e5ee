// One side of a two-Worker ping-pong. `ping` times groups of round trips and
// posts the per-round-trip mean of each group (in microseconds) to the page.
self.onmessage = ({ data }) => {
  const { role, kind, sab, port, group, samples } = data;
  const word = new Int32Array(sab);
  const total = group * samples + 1000; // 1000 warm-up round trips
  if (kind === 'atomics') {
    if (role === 'pong') {
      for (let i = 0; i < total; i++) {
        Atomics.wait(word, 0, 2 * i); // until ping stores 2i+1
        Atomics.store(word, 0, 2 * i + 2);
        Atomics.notify(word, 0);
      }
      return;
    }
    const times = [];
    let i = 0;
    const roundTrip = () => {
      Atomics.store(word, 0, 2 * i + 1);
      Atomics.notify(word, 0);
      Atomics.wait(word, 0, 2 * i + 1);
      i++;
    };
    for (let w = 0; w < 1000; w++) roundTrip();
    for (let s = 0; s < samples; s++) {
      const t0 = performance.now();
      for (let g = 0; g < group; g++) roundTrip();
      times.push(((performance.now() - t0) * 1000) / group);
    }
    self.postMessage(times);
    return;
  }
  // postMessage over a MessageChannel between the two Workers.
  if (role === 'pong') {
    port.onmessage = (e) => port.postMessage(e.data);
    return;
  }
  const times = [];
  let sent = 0;
  let t0 = 0;
  port.onmessage = () => {
    sent++;
    if (sent > 1000 && (sent - 1000) % group === 0) {
      times.push(((performance.now() - t0) * 1000) / group);
      if (times.length === samples) return self.postMessage(times);
    }
    if (sent >= 1000 && (sent - 1000) % group === 0) t0 = performance.now();
    port.postMessage(sent);
  };
  port.postMessage(0);
};
