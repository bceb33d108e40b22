/**
 * Typed arrays over sockets, without copying, on pyzmq's documented wire format
 * (the "serialization" recipe, send_array / recv_array):
 *
 *   [ ...prefix,  {"dtype": "float64", "shape": [2, 3]},  <raw bytes, C order> ]
 *
 * The metadata frame is JSON written exactly as Python's json.dumps writes it
 * (", " and ": " separators, non-ASCII escaped), so a pyzmq peer sends and
 * receives byte-identical frames. The data frame is a view of the TypedArray's
 * memory: nothing is copied on send (so do not modify the array until the message
 * has gone, as with any zero-copy send). On receive the array is a view of the
 * received bytes, except that data whose offset is not a multiple of the element
 * size is copied once into an aligned buffer, and big-endian data (">i4") is
 * copied and byte-swapped into machine order: never misread.
 *
 * Errors: bad arguments to sendArray/encodeArray/receiveArray reject with code
 * EINVAL before anything is sent or received. A received message that cannot be
 * turned into an array (missing data frame, malformed JSON, unknown or unsupported
 * dtype, byte length != product(shape) x itemsize) rejects with code EPROTO
 * (errno 71); the message has been consumed whole (messages are atomic), so the
 * next receive gets the next message, and the error's `frames` holds the raw frames.
 */
import { zmqError, type ZmqError } from "../errors.js";
import {
  dtypeOf,
  hostByteOrder,
  isTypedArray,
  describeValue,
  parseDType,
  type DType,
  type DTypeName,
  type TypedArray,
} from "./dtype.js";

/** Anything with a zeromq.js-style send(): our Socket, or the npm `zeromq` package's. */
export interface ArrayWritable {
  /** zmq-ts sockets take `{copy: false}`: even a small array goes as a view; other sockets ignore it. */
  send(message: Buffer[], options?: { copy?: boolean }): Promise<unknown>;
}

/** Anything with a zeromq.js-style receive(). */
export interface ArrayReadable {
  receive(): Promise<Buffer[]>;
}

/** A multi-dimensional array: its elements in C (row-major) order and its shape. */
export interface ShapedArray<T extends TypedArray = TypedArray> {
  data: T;
  shape: readonly number[];
}

export interface SendArrayOptions {
  /** More fields for the metadata frame (JSON-serializable; "dtype" and "shape" are written by sendArray). */
  metadata?: Readonly<Record<string, unknown>>;
  /** Frames sent before the metadata frame, e.g. a PUB/SUB topic or a ROUTER peer's routing id. */
  prefix?: ReadonlyArray<Buffer | Uint8Array | string>;
  /**
   * The dtype to declare instead of the array's own, for the same element type:
   * typically "bool" for a Uint8Array of 0/1, or ">i4" for an Int32Array whose bytes
   * are already big-endian. Its TypedArray must be the array's.
   */
  dtype?: string;
}

export interface ReceiveArrayOptions {
  /**
   * How many frames come before the metadata frame. Unset: all frames but the last
   * two (so a ROUTER's routing id or a SUB topic lands in `prefix` by itself). Set:
   * a message with any other number of frames is refused (EPROTO).
   */
  prefix?: number;
}

/** The metadata frame as received: dtype and shape, plus whatever else the sender put there. */
export interface ArrayMetadata {
  dtype: string;
  shape: number[];
  [field: string]: unknown;
}

export interface ReceivedArray {
  /** The elements in C order, in machine byte order: a view of the received bytes unless `copied`. */
  array: TypedArray;
  /** numpy name of what `array` holds ("int32" also for data that came as ">i4" and was converted). */
  dtype: DTypeName;
  shape: number[];
  /** The whole parsed metadata frame (its "dtype" is the string as sent, e.g. ">i4"). */
  metadata: ArrayMetadata;
  /** The frames before the metadata frame. */
  prefix: Buffer[];
  /** True when the bytes had to be copied: unaligned offset, or byte order converted. */
  copied: boolean;
}

/** What receiveArray/decodeArray reject with: code EPROTO, and the message as received. */
export interface ArrayProtocolError extends ZmqError {
  frames: Buffer[];
}

const EPROTO_ERRNO = 71;

function invalid(message: string): ZmqError {
  return zmqError("EINVAL", message);
}

function protocol(message: string, frames: Buffer[]): ArrayProtocolError {
  const err = zmqError("EPROTO", message) as ArrayProtocolError;
  err.errno = EPROTO_ERRNO;
  err.frames = frames;
  return err;
}

// ---- send ------------------------------------------------------------------------

/**
 * The frames sendArray sends: [...prefix, metadata JSON, data view]. Throws EINVAL for
 * anything that is not a TypedArray (or { data, shape }), a shape that does not match
 * the byte length, or bad options. The data frame shares the array's memory.
 */
export function encodeArray(input: TypedArray | ShapedArray, options: SendArrayOptions = {}): Buffer[] {
  if (options === null || typeof options !== "object") throw invalid("sendArray: options must be an object");
  let data: unknown = input;
  let shape: readonly number[] | undefined;
  if (!isTypedArray(input) && input !== null && typeof input === "object" && "data" in input && !ArrayBuffer.isView(input)) {
    data = input.data;
    shape = input.shape;
    if (!isTypedArray(data)) throw invalid(`sendArray: { data, shape } needs data to be a TypedArray, got ${whatToPass(data)}`);
    if (!Array.isArray(shape)) throw invalid(`sendArray: { data, shape } needs shape to be an array of non-negative integers, got ${describeValue(shape)}`);
  } else if (!isTypedArray(input)) {
    throw invalid(`sendArray: expected a TypedArray or { data: TypedArray, shape: number[] }, got ${whatToPass(input)}`);
  }
  const array = data as TypedArray;

  let dtype = dtypeOf(array);
  if (options.dtype !== undefined) {
    const declared = parseDType(options.dtype);
    if (declared.arrayType !== dtype.arrayType) {
      throw invalid(
        `sendArray: dtype ${JSON.stringify(options.dtype)} is held by ${declared.arrayType.name}, but the array is a ${array.constructor.name}`,
      );
    }
    dtype = declared;
  }

  const dims = shape === undefined ? [array.length] : checkShape(shape, "sendArray");
  const count = product(dims);
  if (count * dtype.itemsize !== array.byteLength) {
    throw invalid(
      `sendArray: shape ${formatShape(dims)} of ${dtype.name} needs ${count} elements (${count * dtype.itemsize} bytes), ` +
        `but the array has ${array.length} (${array.byteLength} bytes)`,
    );
  }

  const fields: Record<string, unknown> = { dtype: wireName(dtype), shape: dims };
  if (options.metadata !== undefined) {
    const extra = options.metadata;
    if (extra === null || typeof extra !== "object" || Array.isArray(extra)) {
      throw invalid("sendArray: options.metadata must be a plain object of JSON-serializable fields");
    }
    for (const key of Object.keys(extra)) {
      if (key === "dtype" || key === "shape") {
        throw invalid(`sendArray: options.metadata may not set "${key}": sendArray writes it from the array`);
      }
    }
    let normalized: Record<string, unknown>;
    try {
      normalized = JSON.parse(JSON.stringify(extra)) as Record<string, unknown>;
    } catch (e) {
      throw invalid(`sendArray: options.metadata must be JSON-serializable: ${(e as Error).message}`);
    }
    Object.assign(fields, normalized);
  }

  const frames: Buffer[] = [];
  if (options.prefix !== undefined) {
    if (!Array.isArray(options.prefix)) throw invalid("sendArray: options.prefix must be an array of frames (Buffer or string)");
    for (const p of options.prefix) {
      if (typeof p === "string") frames.push(Buffer.from(p, "utf8"));
      else if (Buffer.isBuffer(p)) frames.push(p);
      else if (p instanceof Uint8Array) frames.push(Buffer.from(p.buffer, p.byteOffset, p.byteLength));
      else throw invalid(`sendArray: options.prefix frames must be Buffers or strings, got ${describeValue(p)}`);
    }
  }
  frames.push(Buffer.from(pyJson(fields), "latin1")); // pyJson output is pure ASCII
  frames.push(Buffer.isBuffer(array) ? array : Buffer.from(array.buffer, array.byteOffset, array.byteLength));
  return frames;
}

/**
 * Sends `array` (a TypedArray, or { data, shape } for more than one dimension) as pyzmq's
 * send_array does. Resolves when the socket has queued the message; the data frame is a
 * view of the array's memory. Rejects with EINVAL, sending nothing, when the input is wrong.
 */
export function sendArray(socket: ArrayWritable, array: TypedArray | ShapedArray, options?: SendArrayOptions): Promise<void> {
  let frames: Buffer[];
  try {
    frames = encodeArray(array, options);
  } catch (e) {
    return Promise.reject(e);
  }
  return socket.send(frames, { copy: false }).then(() => undefined);
}

/** The dtype string on the wire: numpy's str(dtype) for little-endian peers ("float64"), explicit order otherwise. */
function wireName(d: DType): string {
  return d.byteOrder === "|" || (d.byteOrder === "<" && hostByteOrder === "<") ? d.name : d.str;
}

function whatToPass(value: unknown): string {
  const what = describeValue(value);
  if (Array.isArray(value)) return `${what}; pass a TypedArray, e.g. Float64Array.from(values)`;
  if (value instanceof ArrayBuffer || (typeof SharedArrayBuffer !== "undefined" && value instanceof SharedArrayBuffer)) {
    return `${what}; pass a TypedArray view of it, e.g. new Float64Array(buffer)`;
  }
  if (value instanceof DataView) return `${what}, which has no element type; pass a TypedArray, e.g. new Float64Array(view.buffer, view.byteOffset, n)`;
  return `${what}; pass a TypedArray such as Float64Array, Int32Array or BigInt64Array`;
}

// ---- receive ---------------------------------------------------------------------

/**
 * Turns a received message into an array, as pyzmq's recv_array does. Throws EPROTO
 * (with the frames attached) when the message is not a valid array message.
 */
export function decodeArray(frames: Buffer[], options: ReceiveArrayOptions = {}): ReceivedArray {
  const prefixCount = checkReceiveOptions(options);
  if (prefixCount !== undefined) {
    if (frames.length !== prefixCount + 2) {
      throw protocol(
        `receiveArray: expected ${prefixCount + 2} frames (${prefixCount} prefix, metadata, data), got ${frames.length}`,
        frames,
      );
    }
  } else if (frames.length < 2) {
    throw protocol(
      `receiveArray: expected a metadata frame and a data frame, got ${frames.length} frame${frames.length === 1 ? "" : "s"} (missing data frame)`,
      frames,
    );
  }
  const metaFrame = frames[frames.length - 2]!;
  const body = frames[frames.length - 1]!;

  let parsed: unknown;
  try {
    parsed = JSON.parse(metaFrame.toString("utf8"));
  } catch (e) {
    throw protocol(`receiveArray: metadata frame is not valid JSON (${(e as Error).message}): ${preview(metaFrame)}`, frames);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw protocol(`receiveArray: metadata must be a JSON object with "dtype" and "shape", got ${preview(metaFrame)}`, frames);
  }
  const metadata = parsed as ArrayMetadata;
  if (typeof metadata.dtype !== "string") {
    throw protocol(`receiveArray: metadata has no "dtype" string: ${preview(metaFrame)}`, frames);
  }
  let dtype: DType;
  try {
    dtype = parseDType(metadata.dtype);
  } catch (e) {
    throw protocol(`receiveArray: ${(e as Error).message}`, frames);
  }
  let shape: number[];
  try {
    shape = checkShape(metadata.shape, "receiveArray");
  } catch (e) {
    throw protocol((e as Error).message, frames);
  }
  const count = product(shape);
  if (count * dtype.itemsize !== body.length) {
    throw protocol(
      `receiveArray: data frame has ${body.length} bytes, but shape ${formatShape(shape)} of ${metadata.dtype} ` +
        `(${dtype.itemsize} bytes each) needs ${count * dtype.itemsize}`,
      frames,
    );
  }
  const { array, copied } = toTypedArray(body, dtype, count);
  return { array, dtype: dtype.name, shape, metadata, prefix: frames.slice(0, frames.length - 2), copied };
}

/**
 * Receives the next message and decodes it as pyzmq's recv_array does. Rejects with
 * EPROTO (message consumed, raw frames on the error) when it is not a valid array message;
 * rejections from the socket itself (EAGAIN, ...) pass through unchanged.
 */
export function receiveArray(socket: ArrayReadable, options: ReceiveArrayOptions = {}): Promise<ReceivedArray> {
  try {
    checkReceiveOptions(options);
  } catch (e) {
    return Promise.reject(e);
  }
  return socket.receive().then((frames) => decodeArray(frames, options));
}

function checkReceiveOptions(options: ReceiveArrayOptions): number | undefined {
  if (options === null || typeof options !== "object") throw invalid("receiveArray: options must be an object");
  const n = options.prefix;
  if (n === undefined) return undefined;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw invalid(`receiveArray: options.prefix is the number of frames before the metadata frame, got ${String(n)}`);
  }
  return n;
}

/**
 * A TypedArray over `body`: a view when the offset is aligned and the order is the
 * machine's; otherwise one copy into a fresh (aligned) buffer, byte-swapped if needed.
 */
function toTypedArray(body: Buffer, dtype: DType, count: number): { array: TypedArray; copied: boolean } {
  const Ctor = dtype.arrayType as new (...args: unknown[]) => TypedArray;
  if (dtype.native && body.byteOffset % dtype.itemsize === 0) {
    return { array: new Ctor(body.buffer, body.byteOffset, count), copied: false };
  }
  const array = new Ctor(count);
  const bytes = Buffer.from(array.buffer, array.byteOffset, array.byteLength);
  bytes.set(body);
  if (!dtype.native) {
    if (dtype.itemsize === 2) bytes.swap16();
    else if (dtype.itemsize === 4) bytes.swap32();
    else if (dtype.itemsize === 8) bytes.swap64();
  }
  return { array, copied: true };
}

// ---- shared ----------------------------------------------------------------------

function checkShape(shape: unknown, who: string): number[] {
  if (!Array.isArray(shape)) {
    throw invalid(`${who}: shape must be an array of non-negative integers, got ${JSON.stringify(shape) ?? String(shape)}`);
  }
  for (const n of shape) {
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
      throw invalid(`${who}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    }
  }
  return shape.slice() as number[];
}

function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

const formatShape = (shape: readonly number[]): string => `[${shape.join(", ")}]`;

function preview(frame: Buffer): string {
  const text = frame.subarray(0, 80).toString("utf8");
  return JSON.stringify(frame.length > 80 ? `${text}...` : text);
}

/** JSON as Python's json.dumps writes it by default: ", " and ": " separators, ASCII only. */
export function pyJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pyJson).join(", ")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.entries(value).map(([k, v]) => `${pyString(k)}: ${pyJson(v)}`).join(", ")}}`;
  }
  if (typeof value === "string") return pyString(value);
  return JSON.stringify(value) ?? "null";
}

function pyString(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
