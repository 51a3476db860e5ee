// How every headless Chromium of this project is started: Debian's binary,
// never a downloaded one, with the flags this sandboxed machine needs.
export const CHROMIUM = process.env.CAPOS_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
