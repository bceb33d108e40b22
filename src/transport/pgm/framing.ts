/**
 * How libzmq carries messages in PGM: each TSDU starts with a 2-byte offset to the
 * first message that begins in it (0xffff: none does), followed by a stream of
 * frames in ZMTP 1.0 encoding (length incl. the flags byte, as 1 byte or 0xff + 8
 * bytes, then flags: bit 0 = more, then the body). A message may span TSDUs.
 */
import type { Message } from "../../pipe/msg-queue.js";

export const NO_OFFSET = 0xffff;

/** Cuts messages into TSDUs of at most `maxTsdu` bytes, as libzmq's pgm_sender does. */
export class TsduEncoder {
  /** Encoded bytes of the frame being written, and how far it is written. */
  private cur: Buffer[] = [];
  private curPos = 0;
  private curIdx = 0;
  /** True while the frames written so far end inside a multipart message. */
  private inMessage = false;

  constructor(private readonly maxTsdu: number) {}

  get idle(): boolean {
    return this.curIdx >= this.cur.length;
  }

  /**
   * Builds the next TSDU, pulling whole messages from `next` while room remains.
   * Returns null when there is nothing to send.
   */
  encode(next: () => Message | undefined): Buffer | null {
    const out = Buffer.allocUnsafe(this.maxTsdu);
    let at = 2;
    let offset = NO_OFFSET;
    for (;;) {
      at = this.copyOut(out, at);
      if (at >= out.length) break;
      // the pending frames are written: this is a message boundary unless inMessage
      if (!this.inMessage && offset === NO_OFFSET) offset = at - 2;
      const msg = next();
      if (msg === undefined) break;
      this.load(msg);
    }
    if (at === 2) return null;
    out.writeUInt16BE(offset, 0);
    return out.subarray(0, at);
  }

  private load(msg: Message): void {
    const parts: Buffer[] = [];
    for (let i = 0; i < msg.length; i++) {
      const body = msg[i]!;
      const more = i < msg.length - 1 ? 1 : 0;
      const size = body.length + 1;
      let head: Buffer;
      if (size < 255) {
        head = Buffer.from([size, more]);
      } else {
        head = Buffer.allocUnsafe(10);
        head[0] = 0xff;
        head.writeBigUInt64BE(BigInt(size), 1);
        head[9] = more;
      }
      parts.push(head, body);
    }
    this.cur = parts;
    this.curIdx = 0;
    this.curPos = 0;
    this.inMessage = true;
  }

  private copyOut(out: Buffer, at: number): number {
    while (this.curIdx < this.cur.length && at < out.length) {
      const part = this.cur[this.curIdx]!;
      const n = Math.min(part.length - this.curPos, out.length - at);
      part.copy(out, at, this.curPos, this.curPos + n);
      at += n;
      this.curPos += n;
      if (this.curPos === part.length) {
        this.curIdx++;
        this.curPos = 0;
      }
    }
    if (this.curIdx >= this.cur.length) {
      this.cur = [];
      this.curIdx = 0;
      this.inMessage = false;
    }
    return at;
  }
}

/** Turns a source's TSDUs back into messages; resynchronises at a message start after a loss. */
export class TsduDecoder {
  private joined = false;
  private frames: Buffer[] = [];
  /** Frame being read: header bytes collected so far, then the body. */
  private head = Buffer.alloc(10);
  private headLen = 0;
  private body: Buffer | null = null;
  private bodyPos = 0;
  private more = false;

  constructor(private readonly maxMessageSize: number) {}

  /** Forgets the partial message: the next TSDU with a message start rejoins the stream. */
  reset(): void {
    this.joined = false;
    this.frames = [];
    this.headLen = 0;
    this.body = null;
    this.bodyPos = 0;
  }

  /** Decodes one TSDU; returns whole messages. Malformed input resets the decoder. */
  push(tsdu: Buffer, out: Message[]): void {
    if (tsdu.length < 2) return;
    const offset = tsdu.readUInt16BE(0);
    let at = 2;
    if (!this.joined) {
      if (offset === NO_OFFSET || offset > tsdu.length - 2) return;
      at += offset;
      this.joined = true;
    }
    while (at < tsdu.length) {
      if (this.body === null) {
        // header: first byte, then 8 more if it is 0xff, then flags
        const need = this.headLen > 0 && this.head[0] === 0xff ? 10 : 2;
        this.head[this.headLen++] = tsdu[at++]!;
        if (this.headLen === 1 && this.head[0] === 0xff) continue;
        if (this.headLen < need) continue;
        const size = need === 10 ? Number(this.head.readBigUInt64BE(1)) : this.head[0]!;
        const flags = this.head[need - 1]!;
        this.headLen = 0;
        if (size < 1 || (this.maxMessageSize >= 0 && size - 1 > this.maxMessageSize) || size - 1 > 0x7fffffff) {
          this.reset();
          return;
        }
        this.more = (flags & 1) !== 0;
        this.body = Buffer.allocUnsafe(size - 1);
        this.bodyPos = 0;
      }
      const n = Math.min(this.body.length - this.bodyPos, tsdu.length - at);
      tsdu.copy(this.body, this.bodyPos, at, at + n);
      at += n;
      this.bodyPos += n;
      if (this.bodyPos === this.body.length) {
        this.frames.push(this.body);
        this.body = null;
        if (!this.more) {
          out.push(this.frames as Message);
          this.frames = [];
        }
      }
    }
  }
}
