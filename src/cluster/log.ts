/**
 * Logging and dropping: every receiver in the cluster (hub, schedulers, engine, client)
 * refuses a message with a bad signature or a malformed body the same way — it counts
 * it, logs one line saying why, and drops it. Nothing else happens to it.
 */
/** Where a cluster component writes its one-line notes (dropped messages, engines lost...). */
export type Logger = (message: string) => void;

/**
 * The default logger: stderr, prefixed with the component. It writes to the stream
 * directly, not through `console`, so an engine's per-task console capture never takes it.
 */
export function stderrLogger(who: string): Logger {
  return (message) => {
    try {
      process.stderr.write(`[zmq-ts cluster ${who}] ${message}\n`);
    } catch {
      // stderr closed: nothing to do.
    }
  };
}

/** Counts of what a component refused. */
export interface DropCounts {
  /** Refused by Session.deserialize: a bad or missing signature, or frames that are not the wire format. */
  invalid: number;
  /** Signed messages whose content is not what their msg_type says (never executed). */
  malformed: number;
  /** Well-formed messages of a type (or from a sender) this component does not take. */
  unexpected: number;
}

export type DropKind = keyof DropCounts;

export function newDropCounts(): DropCounts {
  return { invalid: 0, malformed: 0, unexpected: 0 };
}

/** Records and logs one refused message. */
export function drop(counts: DropCounts, log: Logger, where: string, kind: DropKind, error: unknown): void {
  counts[kind]++;
  log(`dropped a message on ${where} (${kind}): ${error instanceof Error ? error.message : String(error)}`);
}

/**
 * Reads `socket` until it is closed, handing each message to `handle`. A handler that
 * throws is logged, not fatal: one bad message must not stop a receiver.
 */
export async function receiveLoop(
  socket: AsyncIterable<Buffer[]>,
  handle: (frames: Buffer[]) => void | Promise<void>,
  log: Logger,
  where: string,
): Promise<void> {
  try {
    for await (const frames of socket) {
      try {
        await handle(frames);
      } catch (e) {
        log(`error handling a message on ${where}: ${(e as Error)?.stack ?? String(e)}`);
      }
    }
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== "EBADF" && code !== "EAGAIN") log(`receiving on ${where} stopped: ${(e as Error).message}`);
  }
}
