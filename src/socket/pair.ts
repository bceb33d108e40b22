import type { Pipe } from "../pipe/pipe.js";
import type { Message } from "../pipe/msg-queue.js";
import type { Strategy, StrategyHost } from "./strategy-types.js";

/** PAIR (RFC 31): exactly one peer; a second one is refused while the first lives. */
export class PairStrategy implements Strategy {
  private pipe: Pipe | null = null;
  /** A dead peer's pipe still holding messages it sent before it went. */
  private draining: Pipe | null = null;

  constructor(_host: StrategyHost) {}

  attach(pipe: Pipe): void {
    if (this.pipe) {
      pipe.terminate();
      return;
    }
    this.pipe = pipe;
  }

  terminated(pipe: Pipe): void {
    if (pipe !== this.pipe) return;
    this.pipe = null;
    if (pipe.readable) this.draining = pipe;
  }

  readActivated(): void {}
  writeActivated(): void {}

  send(msg: Message): boolean {
    return this.pipe !== null && this.pipe.write(msg);
  }

  recv(): Message | null {
    if (this.draining) {
      const msg = this.draining.read();
      if (msg) return msg;
      this.draining = null;
    }
    return this.pipe?.read() ?? null;
  }

  hasIn(): boolean {
    return (this.draining?.readable ?? false) || (this.pipe?.readable ?? false);
  }

  hasOut(): boolean {
    return this.pipe?.writable ?? false;
  }
}
