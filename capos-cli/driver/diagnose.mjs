// What each Worker of a stalled page was doing: the kernel's loop and each
// process publish a small `__caposState`; a Worker too busy to answer within
// half a second is stuck in JavaScript (a spin, or a wait that never yields).
const ANSWER_MS = 500;

/** The page's own stage and its Workers' states, as one line. */
export async function pageState(page) {
  const late = new Promise((resolve) => { setTimeout(() => resolve('no answer (busy)'), ANSWER_MS); });
  const main = await Promise.race([
    page.evaluate(() => `${document.readyState}, ${globalThis.__caposStage ?? 'main.js not run'}`).catch((err) => err.message.split('\n')[0]),
    late,
  ]);
  return `page: ${main}; Workers: ${await workerStates(page)}`;
}

export async function workerStates(page) {
  const states = await Promise.all(page.workers().map(async (worker) => {
    const answer = worker.evaluate(() => {
      const state = self.__caposState ?? null;
      // Functions are read now: the ring words as they are at the stall.
      const replacer = (_key, value) => (typeof value === 'function' ? value() : value);
      return [self.name, JSON.stringify(state, replacer)];
    });
    const late = new Promise((resolve) => { setTimeout(() => resolve(null), ANSWER_MS); });
    try {
      const got = await Promise.race([answer, late]);
      return got ? `${got[0]}: ${got[1]}` : `${worker.url().split('/').pop()}: no answer (busy)`;
    } catch (err) {
      return `${worker.url().split('/').pop()}: ${err.message.split('\n')[0]}`;
    }
  }));
  return states.length ? states.join('; ') : 'no Workers';
}
