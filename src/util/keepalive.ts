/**
 * zeromq.js keeps the process alive only while something waits: a pending send or
 * receive, an events reader, a socket lingering. Our net handles are unref'd, and this
 * counter refs one long timer while any such wait exists. The timer is made once and
 * only ref'd / unref'd: creating and clearing it per message cost a fifth of the time
 * of an inproc send/receive loop.
 */
let holders = 0;
let timer: NodeJS.Timeout | null = null;

export function holdProcess(): void {
  if (holders++ === 0) {
    if (timer === null) timer = setInterval(() => {}, 1 << 30);
    else timer.ref();
  }
}

export function releaseProcess(): void {
  if (holders === 0) return;
  if (--holders === 0 && timer) timer.unref();
}
