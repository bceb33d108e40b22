/**
 * zeromq.js waits at process exit for messages still queued on sockets that were
 * never closed (each up to its linger; forever with -1, libzmq's default), and says so
 * after half a second. Without this, `await sock.send(x)` at the end of a script would
 * lose x silently when Node's event loop runs dry. Sockets register here while open.
 */
export interface FlushCandidate {
  readonly closed: boolean;
  /** Messages queued on pipes that no connection has taken yet. */
  queuedOutbound(): number;
  lingerMs(): number;
}

const open = new Set<WeakRef<FlushCandidate>>();
let installed = false;
let waiting = false;
/** When the loop first ran dry with messages queued: linger counts from there, across beforeExit events. */
let exitWaitStarted: number | null = null;
let warned = false;

export function registerOpenSocket(socket: FlushCandidate): WeakRef<FlushCandidate> {
  const ref = new WeakRef(socket);
  open.add(ref);
  if (!installed) {
    installed = true;
    process.on("beforeExit", onBeforeExit);
  }
  return ref;
}

export function unregisterOpenSocket(ref: WeakRef<FlushCandidate>): void {
  open.delete(ref);
}

/** The longest linger among sockets still holding messages (-1: forever), or null when none do. */
function pendingLinger(): number | null {
  let longest: number | null = null;
  for (const ref of open) {
    const s = ref.deref();
    if (!s || s.closed) {
      open.delete(ref);
      continue;
    }
    const linger = s.lingerMs();
    if (linger === 0 || s.queuedOutbound() === 0) continue;
    if (linger < 0) return -1;
    longest = Math.max(longest ?? 0, linger);
  }
  return longest;
}

function onBeforeExit(): void {
  if (waiting) return;
  const linger = pendingLinger();
  if (linger === null) return;
  const started = (exitWaitStarted ??= Date.now());
  if (linger >= 0 && Date.now() - started >= linger) return;
  waiting = true;
  const poll = setInterval(() => {
    const left = pendingLinger();
    const elapsed = Date.now() - started;
    if (!warned && elapsed >= 500 && left !== null) {
      warned = true;
      process.stderr.write(
        `(node:${process.pid}) WARNING: Waiting for queued ZeroMQ messages to be delivered. Set 'context.blocky = false' to change this behaviour.\n`,
      );
    }
    if (left === null || (linger >= 0 && elapsed >= linger)) {
      clearInterval(poll);
      waiting = false;
    }
  }, 10);
}
