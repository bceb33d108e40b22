import { randomBytes } from "node:crypto";
import type { Pipe } from "../pipe/pipe.js";

/**
 * The key for a routing id: latin1 maps each byte to one UTF-16 code unit 0..255, so
 * the conversion is one-to-one (no collisions) and cheap.
 */
export function routingKey(id: Uint8Array): string {
  const buf = Buffer.isBuffer(id) ? id : Buffer.from(id.buffer, id.byteOffset, id.byteLength);
  return buf.toString("latin1");
}

/**
 * ROUTER's map between routing ids and pipes. It does not touch `pipe.routingId`:
 * assigning it is the socket's decision (it may also decide what to do about an id
 * already in use — ROUTER_HANDOVER).
 */
export class RoutingTable {
  private readonly byId = new Map<string, Pipe>();
  private readonly byPipe = new Map<Pipe, string>();
  private nextId = randomBytes(4).readUInt32BE(0);

  get size(): number {
    return this.byId.size;
  }

  /**
   * Maps `id` to `pipe`. An id already mapped is taken over by this pipe (the old pipe
   * loses its entry); a pipe already mapped under another id loses that id.
   */
  add(id: Buffer, pipe: Pipe): void {
    const key = routingKey(id);
    const old = this.byId.get(key);
    if (old !== undefined && old !== pipe) this.byPipe.delete(old);
    const oldKey = this.byPipe.get(pipe);
    if (oldKey !== undefined && oldKey !== key) this.byId.delete(oldKey);
    this.byId.set(key, pipe);
    this.byPipe.set(pipe, key);
  }

  get(id: Uint8Array): Pipe | undefined {
    return this.byId.get(routingKey(id));
  }

  has(id: Uint8Array): boolean {
    return this.byId.has(routingKey(id));
  }

  remove(pipe: Pipe): void {
    const key = this.byPipe.get(pipe);
    if (key === undefined) return;
    this.byPipe.delete(pipe);
    this.byId.delete(key);
  }

  /**
   * An automatic id, libzmq style: 5 bytes, 0x00 then a 32-bit big-endian counter
   * that starts at a random value and wraps; ids in use are skipped. (A user-chosen
   * id can never start with 0x00, so generated ones cannot clash with those.)
   */
  nextGeneratedId(): Buffer {
    for (;;) {
      const id = Buffer.alloc(5);
      id.writeUInt32BE(this.nextId, 1);
      this.nextId = (this.nextId + 1) >>> 0;
      if (!this.byId.has(id.toString("latin1"))) return id;
    }
  }
}
