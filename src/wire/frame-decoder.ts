/**
 * Sans-IO ZMTP 3.x frame decoder: chunks in, frames out.
 *
 *   frame  = flags size body
 *   flags  = bit0 MORE, bit1 LONG, bit2 COMMAND; bits 7..3 reserved (ignored on receive, as libzmq does)
 *   size   = 1 octet, or 8 octets big-endian when LONG
 *
 * Frames lying inside one chunk are delivered as views of that chunk. Only a body that
 * spans chunks is assembled, into a buffer allocated once when its header is complete.
 * Partial headers (at most 9 bytes) are carried over in a fixed scratch buffer.
 */
import { constants as bufferConstants } from "node:buffer";
import { WireError } from "./errors.js";

export const FLAG_MORE = 1;
export const FLAG_LONG = 2;
export const FLAG_COMMAND = 4;

export interface FrameSink {
  /** A data frame. `body` is a view into the received chunk whenever the frame lies inside one chunk. */
  onFrame(body: Buffer, more: boolean): void;
  /** A command frame (COMMAND flag), body as received (name length byte, name, data). */
  onCommand(body: Buffer): void;
}

const TWO_POW_32 = 0x1_0000_0000;
/**
 * Largest body we try to allocate: Buffer's limit, at most 4 GiB. Node 20 and Bun report
 * 2^32; Node 22 and Deno report 2^53 - 1 but fail to allocate far below that, so without
 * the cap an absurd size would be tried (and fail) instead of refused, on those runtimes only.
 */
const MAX_BUFFER = Math.min(bufferConstants.MAX_LENGTH, TWO_POW_32);
/**
 * A frame that spans reads and is at most SLAB_FRAME_MAX bytes is assembled in a slice of
 * a shared SLAB_SIZE slab rather than in a buffer of its own: every ArrayBuffer costs an
 * allocation plus external-memory accounting that drives the GC (tcp 4 KiB messages: one
 * frame in 16 spans a 64 KiB read, and allocating them was 8% of the receiver's time).
 * Slices start on 8-byte boundaries, as a fresh buffer would, so a Float64Array view of
 * one stays possible. A retained slice keeps its slab alive, as a view keeps its read.
 */
const SLAB_SIZE = 64 * 1024;
const SLAB_FRAME_MAX = 8 * 1024;

export class FrameDecoder {
  private readonly sink: FrameSink;
  private readonly maxFrameSize: number;

  /** Carry-over for a header split across chunks; `hdrLen` bytes of it are valid. */
  private readonly hdr = Buffer.alloc(9);
  private hdrLen = 0;

  /** Body being assembled across chunks (null when not in a body). */
  private body: Buffer | null = null;
  private bodyFilled = 0;
  private bodyFlags = 0;
  private slab: Buffer | null = null;
  private slabUsed = 0;

  /** Chunks (or the rest of one) received but not decoded yet: while paused, or pushed re-entrantly. */
  private pending: (Buffer | undefined)[] = [];
  private pendingHead = 0;

  private _paused = false;
  /** True while decode() is on the stack (so re-entrant push/resume from the sink only queue). */
  private busy = false;
  private failure: unknown = null;

  constructor(sink: FrameSink, maxFrameSize?: number) {
    this.sink = sink;
    this.maxFrameSize = maxFrameSize === undefined || maxFrameSize < 0 ? -1 : maxFrameSize;
  }

  get paused(): boolean {
    return this._paused;
  }

  /** Bytes received but not yet delivered as frames, excluding a partially assembled body. */
  get bufferedBytes(): number {
    let n = this.hdrLen;
    for (let i = this.pendingHead; i < this.pending.length; i++) n += this.pending[i]!.length;
    return n;
  }

  /**
   * Feeds the next chunk. Calls the sink synchronously for every complete frame until
   * paused. Throws WireError on a malformed stream; after any throw (including one from
   * the sink) the decoder is dead: later push() calls rethrow that error, resume() does nothing.
   */
  push(chunk: Buffer): void {
    if (this.failure !== null) throw this.failure;
    if (chunk.length === 0) return;
    if (this.busy || this._paused || this.pendingHead < this.pending.length) {
      this.pending.push(chunk);
      if (!this.busy && !this._paused) this.run();
      return;
    }
    this.busy = true;
    try {
      const pos = this.decode(chunk, 0);
      if (pos < chunk.length) this.pending.splice(this.pendingHead, 0, chunk.subarray(pos));
      if (!this._paused && this.pendingHead < this.pending.length) this.drain();
    } catch (e) {
      this.fail(e);
    } finally {
      this.busy = false;
    }
  }

  /** Makes push() return after the frame being delivered; the rest of the bytes are kept. */
  pause(): void {
    this._paused = true;
  }

  /** Continues decoding kept bytes (synchronously, unless called from inside the sink). */
  resume(): void {
    if (!this._paused) return;
    this._paused = false;
    if (this.failure !== null) return;
    if (!this.busy) this.run();
  }

  private run(): void {
    this.busy = true;
    try {
      this.drain();
    } catch (e) {
      this.fail(e);
    } finally {
      this.busy = false;
    }
  }

  private drain(): void {
    const pending = this.pending;
    while (!this._paused && this.pendingHead < pending.length) {
      const chunk = pending[this.pendingHead]!;
      pending[this.pendingHead] = undefined;
      this.pendingHead++;
      const pos = this.decode(chunk, 0);
      if (pos < chunk.length) {
        this.pendingHead--;
        pending[this.pendingHead] = chunk.subarray(pos);
      }
    }
    if (this.pendingHead === pending.length) {
      pending.length = 0;
      this.pendingHead = 0;
    }
  }

  private fail(e: unknown): never {
    this.failure = e;
    this.body = null;
    this.pending.length = 0;
    this.pendingHead = 0;
    throw e;
  }

  /** Decodes from `pos`; returns where it stopped (chunk.length unless paused). */
  private decode(chunk: Buffer, pos: number): number {
    const end = chunk.length;

    // 1. Continue a body that spans chunks.
    const body = this.body;
    if (body !== null) {
      const n = Math.min(body.length - this.bodyFilled, end - pos);
      chunk.copy(body, this.bodyFilled, pos, pos + n);
      this.bodyFilled += n;
      pos += n;
      if (this.bodyFilled < body.length) return pos;
      this.body = null;
      this.deliver(body, this.bodyFlags);
      if (this._paused) return pos;
    }

    // 2. Complete a header that spans chunks.
    if (this.hdrLen > 0) {
      const hdr = this.hdr;
      const need = hdr[0]! & FLAG_LONG ? 9 : 2;
      while (this.hdrLen < need && pos < end) hdr[this.hdrLen++] = chunk[pos++]!;
      if (this.hdrLen < need) return pos;
      this.hdrLen = 0;
      const flags = hdr[0]!;
      const size = need === 2 ? hdr[1]! : this.longSize(hdr, 1);
      pos = this.startBody(chunk, pos, flags, size);
      if (this._paused || this.body !== null) return pos;
    }

    // 3. Whole frames.
    while (pos < end) {
      const flags = chunk[pos]!;
      if ((flags & (FLAG_COMMAND | FLAG_MORE)) === (FLAG_COMMAND | FLAG_MORE)) throw commandWithMore();
      let size: number;
      if ((flags & FLAG_LONG) === 0) {
        if (end - pos < 2) return this.keepHeader(chunk, pos);
        size = chunk[pos + 1]!;
        pos += 2;
      } else {
        if (end - pos < 9) return this.keepHeader(chunk, pos);
        size = this.longSize(chunk, pos + 1);
        pos += 9;
      }
      pos = this.startBody(chunk, pos, flags, size);
      if (this._paused || this.body !== null) return pos;
    }
    return pos;
  }

  /** Header complete: delivers a view if the body is all here, else allocates once and starts assembling. */
  private startBody(chunk: Buffer, pos: number, flags: number, size: number): number {
    if (this.maxFrameSize >= 0 && size > this.maxFrameSize) {
      throw new WireError("ERR_ZMTP_MESSAGE_TOO_LARGE", `frame of ${size} bytes exceeds the limit of ${this.maxFrameSize} bytes`);
    }
    const end = chunk.length;
    if (end - pos >= size) {
      this.deliver(chunk.subarray(pos, pos + size), flags);
      return pos + size;
    }
    const body = size <= SLAB_FRAME_MAX ? this.slice(size) : allocateFrame(size);
    chunk.copy(body, 0, pos, end);
    this.body = body;
    this.bodyFilled = end - pos;
    this.bodyFlags = flags;
    return end;
  }

  /** `size` bytes of the current slab, 8-byte aligned; a new slab when it is used up. */
  private slice(size: number): Buffer {
    let slab = this.slab;
    if (slab === null || slab.length - this.slabUsed < size) {
      slab = this.slab = Buffer.allocUnsafe(SLAB_SIZE);
      this.slabUsed = 0;
    }
    const at = this.slabUsed;
    this.slabUsed = (at + size + 7) & ~7;
    return slab.subarray(at, at + size);
  }

  private keepHeader(chunk: Buffer, pos: number): number {
    const end = chunk.length;
    chunk.copy(this.hdr, 0, pos, end);
    this.hdrLen = end - pos;
    return end;
  }

  /** Reads an 8-byte big-endian size, refusing anything that is not a safe, allocatable length. */
  private longSize(b: Buffer, at: number): number {
    const hi = b.readUInt32BE(at);
    const lo = b.readUInt32BE(at + 4);
    if (hi >= 0x8000_0000) {
      throw new WireError("ERR_ZMTP_MESSAGE_TOO_LARGE", "frame size announced is 2^63 bytes or more");
    }
    if (hi > 0x1f_ffff) {
      throw new WireError("ERR_ZMTP_MESSAGE_TOO_LARGE", `frame size announced (0x${hi.toString(16)}${lo.toString(16).padStart(8, "0")}) exceeds 2^53-1 bytes`);
    }
    const size = hi * TWO_POW_32 + lo;
    if (size > MAX_BUFFER) {
      throw new WireError("ERR_ZMTP_MESSAGE_TOO_LARGE", `frame of ${size} bytes exceeds the largest possible buffer (${MAX_BUFFER} bytes)`);
    }
    return size;
  }

  private deliver(body: Buffer, flags: number): void {
    if (flags & FLAG_COMMAND) this.sink.onCommand(body);
    else this.sink.onFrame(body, (flags & FLAG_MORE) !== 0);
  }
}

function allocateFrame(size: number): Buffer {
  try {
    return Buffer.allocUnsafe(size);
  } catch {
    throw new WireError("ERR_ZMTP_MESSAGE_TOO_LARGE", `cannot allocate a frame of ${size} bytes`);
  }
}

function commandWithMore(): WireError {
  return new WireError("ERR_ZMTP_MALFORMED_FRAME", "command frame with the MORE flag set");
}
