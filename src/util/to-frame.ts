import type { Message } from "../pipe/msg-queue.js";

/** What send() accepts for one frame, as zeromq.js does. */
export type MessageLike =
  | ArrayBufferView | ArrayBuffer | SharedArrayBuffer | string | number | boolean | null | undefined | object;

const EMPTY = Buffer.alloc(0);
/**
 * zeromq.js copies frames of up to 128 bytes at send() and references larger ones. We
 * do the same: a small buffer may be reused as soon as send() returns (it costs a few
 * bytes to copy), a large one travels without a copy.
 */
export const COPY_THRESHOLD = 128;

/**
 * Turns one frame into a Buffer. Binary data is wrapped, never copied: a TypedArray
 * becomes a Buffer view of the same memory. Strings are UTF-8; anything else goes
 * through String(), as zeromq.js does.
 */
export function toFrame(value: unknown, copySmall = true): Buffer {
  if (Buffer.isBuffer(value)) return copySmall && value.length <= COPY_THRESHOLD && value.length > 0 ? Buffer.from(value) : value;
  if (typeof value === "string") return Buffer.from(value, "utf8");
  if (value === null || value === undefined) return EMPTY;
  if (ArrayBuffer.isView(value)) {
    const view = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    return copySmall && view.length <= COPY_THRESHOLD ? Buffer.from(view) : view;
  }
  if (value instanceof ArrayBuffer || (typeof SharedArrayBuffer !== "undefined" && value instanceof SharedArrayBuffer)) {
    return Buffer.from(value as ArrayBuffer);
  }
  return Buffer.from(String(value), "utf8");
}

/** A whole message from what send() was given: one frame or an array of frames. */
export function toMessage(value: unknown, copySmall = true): Message {
  if (Array.isArray(value)) {
    const frames = new Array<Buffer>(value.length);
    for (let i = 0; i < value.length; i++) frames[i] = toFrame(value[i], copySmall);
    return frames;
  }
  return [toFrame(value, copySmall)];
}
