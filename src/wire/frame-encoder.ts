/**
 * ZMTP 3.x frame encoding, built for write coalescing: headers and small bodies are
 * copied into one shared scratch buffer, large bodies are handed to the writer untouched.
 */
import { FLAG_LONG, FLAG_MORE } from "./frame-decoder.js";

const TWO_POW_32 = 0x1_0000_0000;
const DEFAULT_COPY_THRESHOLD = 8 * 1024;
const MIN_SCRATCH = 16 * 1024;
/** A busy batch's scratch grows (by doubling, once per refill) up to this size (see reserve()). */
const MAX_SCRATCH = 64 * 1024;
/** Scratches kept for reuse once written (see recycle()). */
const MAX_SPARE = 4;

/** Number of header bytes for a body of `size`: 2 if size <= 255, else 9. */
export function frameHeaderSize(size: number): number {
  return size <= 255 ? 2 : 9;
}

/**
 * Writes the header (flags + size) of a frame into `target` at `offset` and returns the
 * new offset. LONG is set (or cleared) according to `size`.
 */
export function writeFrameHeader(target: Buffer, offset: number, flags: number, size: number): number {
  if (size <= 255) {
    target[offset] = flags & ~FLAG_LONG & 0xff;
    target[offset + 1] = size;
    return offset + 2;
  }
  target[offset] = (flags | FLAG_LONG) & 0xff;
  target.writeUInt32BE(Math.floor(size / TWO_POW_32), offset + 1);
  target.writeUInt32BE(size >>> 0, offset + 5);
  return offset + 9;
}

/** One Buffer holding header + body (tests and rare paths; the hot path uses FrameBatch). */
export function encodeFrame(body: Uint8Array, flags: number): Buffer {
  const size = body.length;
  const out = Buffer.allocUnsafe(frameHeaderSize(size) + size);
  const at = writeFrameHeader(out, 0, flags, size);
  out.set(body, at);
  return out;
}

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Batches outgoing frames. Small bodies (<= copyThreshold) are copied, with their
 * headers, into a scratch buffer; a large body gets its header appended to the scratch,
 * then the current scratch chunk is closed and the body is emitted as a chunk of its own.
 * take() hands over the chunks and starts a new batch. Handed-out parts of the scratch are
 * never written again: the next batch continues after them, and a new scratch is
 * allocated only when the current one is full.
 */
export class FrameBatch {
  private readonly copyThreshold: number;
  private scratch: Buffer | null = null;
  /** Start of the scratch region not yet closed into `chunks`. */
  private chunkStart = 0;
  /** Write position in the scratch. */
  private used = 0;
  private chunks: Buffer[] = [];
  /** Size of the next scratch: doubles each time one fills up, so a busy batch soon stops moving bytes. */
  private scratchSize = MIN_SCRATCH;
  private _byteLength = 0;
  private _largeBodies = 0;
  /** Scratches filled up since the last take(): the writer returns them through recycle(). */
  private retired: Buffer[] = [];
  /** Scratches whose bytes the writer has finished with, ready to be filled again. */
  private readonly spare: Buffer[] = [];

  constructor(copyThreshold = DEFAULT_COPY_THRESHOLD) {
    this.copyThreshold = Math.max(0, copyThreshold);
  }

  /** Bodies appended (uncopied, as chunks of their own) since the last take(). */
  get largeBodies(): number {
    return this._largeBodies;
  }

  /** Bytes appended since the last take(). */
  get byteLength(): number {
    return this._byteLength;
  }

  append(body: Uint8Array, flags: number): void {
    const size = body.length;
    const hsize = frameHeaderSize(size);
    if (size <= this.copyThreshold) {
      const at = this.reserve(hsize + size);
      const scratch = this.scratch!;
      scratch.set(body, writeFrameHeader(scratch, at, flags, size));
      this.used = at + hsize + size;
    } else {
      const at = this.reserve(hsize);
      const scratch = this.scratch!;
      this.used = writeFrameHeader(scratch, at, flags, size);
      this.chunks.push(scratch.subarray(this.chunkStart, this.used));
      this.chunkStart = this.used;
      this.chunks.push(asBuffer(body));
      this._largeBodies++;
    }
    this._byteLength += hsize + size;
  }

  /** Appends a whole message: every frame but the last gets FLAG_MORE. An empty list appends nothing. */
  appendMessage(frames: readonly Uint8Array[]): void {
    const last = frames.length - 1;
    for (let i = 0; i <= last; i++) this.append(frames[i]!, i < last ? FLAG_MORE : 0);
  }

  /** Returns the chunks to write, in order, and starts a new batch. */
  take(): Buffer[] {
    if (this.used > this.chunkStart) {
      this.chunks.push(this.scratch!.subarray(this.chunkStart, this.used));
      this.chunkStart = this.used;
    }
    const out = this.chunks;
    this.chunks = [];
    this._byteLength = 0;
    this._largeBodies = 0;
    return out;
  }

  /**
   * The scratches that filled up while the chunks of the last take() were appended, or
   * null. None of them will be written into again; once every chunk handed out so far has
   * been written (the callback of the last write), pass them to recycle().
   */
  takeRetired(): Buffer[] | null {
    if (this.retired.length === 0) return null;
    const out = this.retired;
    this.retired = [];
    return out;
  }

  /**
   * Scratches the writer is done with come back for reuse: a fresh ArrayBuffer per 64 KiB
   * costs an allocation plus external-memory accounting that drives the GC (tcp 4 KiB
   * messages: 8% of the sender's time in allocation). A few are kept; the rest go.
   */
  recycle(scratches: Buffer[]): void {
    for (const b of scratches) if (this.spare.length < MAX_SPARE) this.spare.push(b);
  }

  /**
   * Makes room for `n` bytes at the write position and returns that position. When the
   * scratch is full, the open region is closed into a chunk of its own (the writer sends
   * the chunks with one writev) and a new scratch is started: bytes are copied once,
   * never moved. Every refill doubles the size of the next scratch (up to MAX_SCRATCH):
   * a steady stream soon gets one that holds a whole batch, while an idle connection
   * keeps a small one. MAX_SCRATCH stays under glibc's mmap threshold (128 KiB at
   * start): larger buffers come from fresh mmap'd pages, and the first touch of each
   * page (a fault per 4 KiB) cost more than the copy itself (tcp 4 KiB messages:
   * 110k/s with 512 KiB scratches and the open region moved, against 130k/s+ without).
   */
  private reserve(n: number): number {
    const scratch = this.scratch;
    if (scratch !== null && scratch.length - this.used >= n) return this.used;
    if (scratch !== null) {
      if (this.used > this.chunkStart) this.chunks.push(scratch.subarray(this.chunkStart, this.used));
      this.scratchSize = Math.min(MAX_SCRATCH, this.scratchSize * 2);
      this.retired.push(scratch);
    }
    const size = Math.max(this.scratchSize, n);
    const spare = this.spare.pop();
    this.scratch = spare !== undefined && spare.length === size ? spare : Buffer.allocUnsafe(size);
    this.chunkStart = 0;
    this.used = 0;
    return 0;
  }
}
