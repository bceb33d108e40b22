import type { Pipe } from "../pipe/pipe.js";
import { getProperty } from "../wire/commands.js";

/**
 * A received frame with what is known about where it came from (pyzmq's
 * `recv(copy=False)` Frame): the bytes as a view, the MORE flag, and the
 * connection's properties — the peer's READY metadata (Socket-Type, Identity, ...),
 * User-Id and ZAP metadata after authentication, and Peer-Address.
 */
export class Frame {
  constructor(
    /** The frame's bytes: a view of what arrived, not a copy. */
    readonly buffer: Buffer,
    /** True when more frames of the same message follow. */
    readonly more: boolean,
    private readonly source: Pipe | null,
  ) {}

  /** pyzmq's Frame.bytes: the frame's bytes. */
  get bytes(): Buffer {
    return this.buffer;
  }

  /** The bytes as text (UTF-8 unless another encoding is given), so a Frame prints as its content. */
  toString(encoding: BufferEncoding = "utf8"): string {
    return this.buffer.toString(encoding);
  }

  /** The routing id the receiving socket knows the sender by (ROUTER, STREAM), if any. */
  get routingId(): Buffer | null {
    return this.source?.routingId ?? null;
  }

  /** A connection property by name (case-insensitive), as a string; undefined if the peer did not send it. */
  get(property: string): string | undefined {
    const peer = this.source?.peer;
    if (!peer) return undefined;
    if (property.toLowerCase() === "peer-address") return peer.address ?? undefined;
    return getProperty(peer.metadata, property)?.toString();
  }

  /** Every connection property, as received. */
  get properties(): ReadonlyMap<string, Buffer> {
    return this.source?.peer?.metadata ?? new Map();
  }
}

export function toFrames(msg: Buffer[], source: Pipe | null): Frame[] {
  const frames = new Array<Frame>(msg.length);
  for (let i = 0; i < msg.length; i++) frames[i] = new Frame(msg[i]!, i < msg.length - 1, source);
  return frames;
}
