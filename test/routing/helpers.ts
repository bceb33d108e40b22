import { createPipe, type Pipe, type PipeOwner } from "../../src/pipe/pipe.js";
import type { Message } from "../../src/pipe/msg-queue.js";

export type Call = { kind: "readable" | "writable" | "terminated"; pipe: Pipe };

/** A fake socket: records what pipes tell it and forwards to handlers like a socket would. */
export class FakeOwner implements PipeOwner {
  lastSource: Pipe | null = null;
  calls: Call[] = [];
  onReadable: (p: Pipe) => void = () => {};
  onWritable: (p: Pipe) => void = () => {};
  onTerminated: (p: Pipe) => void = () => {};

  pipeReadable(pipe: Pipe): void {
    this.calls.push({ kind: "readable", pipe });
    this.onReadable(pipe);
  }
  pipeWritable(pipe: Pipe): void {
    this.calls.push({ kind: "writable", pipe });
    this.onWritable(pipe);
  }
  pipeTerminated(pipe: Pipe): void {
    this.calls.push({ kind: "terminated", pipe });
    this.onTerminated(pipe);
  }
  count(kind: Call["kind"], pipe?: Pipe): number {
    return this.calls.filter((c) => c.kind === kind && (pipe === undefined || c.pipe === pipe)).length;
  }
}

export function pipes(owner: PipeOwner, n: number, sndhwm = 0, rcvhwm = 0): Pipe[] {
  return Array.from({ length: n }, () => createPipe(owner, sndhwm, rcvhwm, "test"));
}

export function msg(...frames: string[]): Message {
  return frames.map((f) => Buffer.from(f));
}

export function text(m: Message): string {
  return m.map((f) => f.toString()).join("|");
}

/** Everything the socket queued for the peer (what an engine would take off the pipe). */
export function drainOut(pipe: Pipe): Message[] {
  const out: Message[] = [];
  for (let m = pipe.outbound.shift(); m !== undefined; m = pipe.outbound.shift()) out.push(m);
  return out;
}

/** A message arriving from the peer (what an engine would do after decoding one). */
export function arrive(pipe: Pipe, m: Message): void {
  pipe.inbound.forcePush(m);
}
