/**
 * zeromq.js keeps the process alive only while something waits: a pending send or
 * receive, an events reader, a socket lingering. Our net handles are unref'd, and this
 * counter holds one ref'd timer while any such wait exists.
 */
let holders = 0;
let timer: NodeJS.Timeout | null = null;

export function holdProcess(): void {
  if (holders++ === 0) timer = setInterval(() => {}, 1 << 30);
}

export function releaseProcess(): void {
  if (holders === 0) return;
  if (--holders === 0 && timer) {
    clearInterval(timer);
    timer = null;
  }
}
