// Starts `capos serve` on a free loopback port and resolves with its URL and
// a stop function: the site every driver and test of this project loads.
import { spawn } from 'node:child_process';

export function serveSite(caposBin) {
  return new Promise((resolve, reject) => {
    const child = spawn(caposBin, ['serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/http:\/\/127\.0\.0\.1:\d+\//);
      if (m) resolve({ url: m[0], stop: () => child.kill('SIGTERM') });
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`capos serve exited (${code})`)));
  });
}
