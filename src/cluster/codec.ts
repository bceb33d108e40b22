/**
 * Values (task arguments, results, pushed names, mesh messages) as JSON plus
 * out-of-band buffers. Typed arrays, Buffers and ArrayBuffers are not put in the JSON:
 * each becomes a separate frame (a view of its memory, not a copy) and the JSON holds
 * a marker with its index, dtype and length. What JSON cannot say on its own
 * (undefined, NaN/±Infinity, -0, bigint, Date, Map, Set, Error) is marked too, so a
 * value comes back as it went.
 *
 *   encodeValue({x: new Float64Array(4), n: 3}, buffers)
 *     → {"x": {"__zt__": "array", "i": 0, "dtype": "float64", "length": 4}, "n": 3}, buffers = [<32 bytes>]
 *
 * Decoding gives typed arrays that are views of the received frames when their offset
 * is aligned, else one copy. A marker that points past the buffers, or names an
 * unknown dtype, is an EPROTO ClusterError.
 */
import { arrayTypeFor, dtypeOf, isTypedArray, type TypedArray } from "../index.js";
import { ClusterError } from "./errors.js";

const TAG = "__zt__";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Encodes `value`, appending its binary parts to `buffers`. Functions and symbols are refused (EINVAL). */
export function encodeValue(value: unknown, buffers: Buffer[], seen: Set<object> = new Set()): Json {
  switch (typeof value) {
    case "undefined":
      return { [TAG]: "undefined" };
    case "boolean":
    case "string":
      return value;
    case "number":
      if (Number.isFinite(value) && !Object.is(value, -0)) return value;
      return { [TAG]: "number", v: String(Object.is(value, -0) ? "-0" : value) };
    case "bigint":
      return { [TAG]: "bigint", v: value.toString() };
    case "function":
    case "symbol":
      throw new ClusterError("EINVAL", `cannot send a ${typeof value} as a value (send a function by its module specifier, "./tasks.js#name")`);
  }
  if (value === null) return null;
  const obj = value as object;
  // A Buffer is a Uint8Array too: test it first, so it comes back a Buffer.
  if (Buffer.isBuffer(obj)) {
    buffers.push(obj);
    return { [TAG]: "buffer", i: buffers.length - 1 };
  }
  if (isTypedArray(obj)) {
    buffers.push(Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength));
    return { [TAG]: "array", i: buffers.length - 1, dtype: dtypeOf(obj).name, length: obj.length };
  }
  if (obj instanceof ArrayBuffer) {
    buffers.push(Buffer.from(obj));
    return { [TAG]: "arraybuffer", i: buffers.length - 1 };
  }
  if (ArrayBuffer.isView(obj)) {
    // DataView (and any other view): its bytes, decoded as a Buffer.
    buffers.push(Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength));
    return { [TAG]: "buffer", i: buffers.length - 1 };
  }
  if (seen.has(obj)) throw new ClusterError("EINVAL", "cannot send a value that contains itself");
  seen.add(obj);
  try {
    if (Array.isArray(obj)) return obj.map((v) => encodeValue(v, buffers, seen));
    if (obj instanceof Date) return { [TAG]: "date", v: obj.toISOString() };
    if (obj instanceof Map) return { [TAG]: "map", v: [...obj].map(([k, v]) => [encodeValue(k, buffers, seen), encodeValue(v, buffers, seen)]) };
    if (obj instanceof Set) return { [TAG]: "set", v: [...obj].map((v) => encodeValue(v, buffers, seen)) };
    if (obj instanceof Error) {
      const code = (obj as { code?: unknown }).code;
      return { [TAG]: "error", name: obj.name, message: obj.message, stack: obj.stack ?? "", ...(typeof code === "string" ? { code } : {}) };
    }
    const out: { [k: string]: Json } = {};
    for (const [k, v] of Object.entries(obj)) out[k] = encodeValue(v, buffers, seen);
    // A user object that happens to have our tag as a key is wrapped, so it is not taken for a marker.
    return TAG in out ? { [TAG]: "object", v: out } : out;
  } finally {
    seen.delete(obj);
  }
}

function bufferAt(buffers: ReadonlyArray<Buffer>, i: unknown): Buffer {
  if (typeof i !== "number" || !Number.isInteger(i) || i < 0 || i >= buffers.length) {
    throw new ClusterError("EPROTO", `malformed value: buffer index ${String(i)} of ${buffers.length}`);
  }
  return buffers[i]!;
}

function toArray(buf: Buffer, dtype: unknown, length: unknown): TypedArray {
  if (typeof dtype !== "string") throw new ClusterError("EPROTO", "malformed value: array without dtype");
  let Ctor;
  try {
    Ctor = arrayTypeFor(dtype);
  } catch {
    throw new ClusterError("EPROTO", `malformed value: unknown dtype ${JSON.stringify(dtype)}`);
  }
  const size = Ctor.BYTES_PER_ELEMENT;
  if (buf.byteLength % size !== 0 || (typeof length === "number" && length * size !== buf.byteLength)) {
    throw new ClusterError("EPROTO", `malformed value: ${buf.byteLength} bytes for ${String(length)} x ${dtype}`);
  }
  if (buf.byteOffset % size === 0) return new Ctor(buf.buffer as ArrayBuffer, buf.byteOffset, buf.byteLength / size);
  // Unaligned in the received chunk: one copy into fresh, aligned memory.
  const copy = new Uint8Array(buf.byteLength);
  copy.set(buf);
  return new Ctor(copy.buffer, 0, buf.byteLength / size);
}

/** Decodes what encodeValue produced, with the received buffers. */
export function decodeValue(json: unknown, buffers: ReadonlyArray<Buffer>): unknown {
  if (json === null || typeof json !== "object") return json;
  if (Array.isArray(json)) return json.map((v) => decodeValue(v, buffers));
  const o = json as Record<string, unknown>;
  const tag = o[TAG];
  if (tag === undefined) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) out[k] = decodeValue(v, buffers);
    return out;
  }
  switch (tag) {
    case "undefined":
      return undefined;
    case "number":
      return o.v === "-0" ? -0 : Number(o.v);
    case "bigint":
      if (typeof o.v !== "string" || !/^-?\d+$/.test(o.v)) throw new ClusterError("EPROTO", "malformed value: bigint");
      return BigInt(o.v);
    case "array":
      return toArray(bufferAt(buffers, o.i), o.dtype, o.length);
    case "buffer":
      return bufferAt(buffers, o.i);
    case "arraybuffer": {
      const b = bufferAt(buffers, o.i);
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
    }
    case "date":
      return new Date(String(o.v));
    case "map":
      if (!Array.isArray(o.v)) throw new ClusterError("EPROTO", "malformed value: map");
      return new Map((o.v as unknown[]).map((e) => {
        if (!Array.isArray(e) || e.length !== 2) throw new ClusterError("EPROTO", "malformed value: map entry");
        return [decodeValue(e[0], buffers), decodeValue(e[1], buffers)] as [unknown, unknown];
      }));
    case "set":
      if (!Array.isArray(o.v)) throw new ClusterError("EPROTO", "malformed value: set");
      return new Set((o.v as unknown[]).map((v) => decodeValue(v, buffers)));
    case "error": {
      const e = new Error(String(o.message ?? ""));
      e.name = String(o.name ?? "Error");
      e.stack = String(o.stack ?? "");
      if (typeof o.code === "string") (e as Error & { code: string }).code = o.code;
      return e;
    }
    case "object": {
      const inner = o.v;
      if (inner === null || typeof inner !== "object" || Array.isArray(inner)) throw new ClusterError("EPROTO", "malformed value: object");
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(inner)) out[k] = decodeValue(v, buffers);
      return out;
    }
    default:
      throw new ClusterError("EPROTO", `malformed value: unknown marker ${JSON.stringify(tag)}`);
  }
}

/** Encodes several values into one JSON list and one buffer list (a task's arguments). */
export function encodeValues(values: readonly unknown[]): { json: Json[]; buffers: Buffer[] } {
  const buffers: Buffer[] = [];
  return { json: values.map((v) => encodeValue(v, buffers)), buffers };
}
