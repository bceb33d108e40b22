/**
 * numpy dtype strings <-> TypedArray constructors.
 *
 * Accepted spellings are numpy's own (numpy 1.24, LP64 platforms):
 *   - names:            "float64", "int32", "bool", "double", "int", "uint", "intc", ...
 *   - kind + size:      "f8", "i4", "u1", "b1", optionally after a byte-order mark
 *   - one-char codes:   "d", "f", "i", "q", "B", "?", ..., optionally after a byte-order mark
 *   - byte-order marks: "<" little, ">" big, "=" native, "|" not applicable
 *                       (numpy accepts a mark only before codes, never before names:
 *                       ">i4" is a dtype, ">int32" is not)
 *
 * Two string forms come back out, as numpy prints them:
 *   - `str`   numpy's dtype.str: "<f8", ">i4", "|u1", "|b1" (explicit order)
 *   - `descr` numpy's str(dtype), what pyzmq's recipe sends: "float64" for the
 *             machine's order, ">i4" for the other one
 *
 * "int"/"long"/"l"/"p" are 8 bytes, as numpy has them on Linux and macOS (LP64).
 * 64-bit integers map to BigInt64Array / BigUint64Array; "bool" maps to Uint8Array.
 * float16, longdouble, complex, object, strings, datetimes and structured dtypes have
 * no TypedArray to hold them: they raise EINVAL naming the dtype.
 */
import { endianness } from "node:os";
import { zmqError, type ZmqError } from "../errors.js";

export type TypedArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

export type TypedArrayConstructor =
  | Int8ArrayConstructor
  | Uint8ArrayConstructor
  | Uint8ClampedArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor;

/** The numpy dtypes a TypedArray can hold, by numpy's canonical name. */
export type DTypeName =
  | "bool"
  | "int8"
  | "uint8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "uint64"
  | "float32"
  | "float64";

/** "<" little-endian, ">" big-endian, "|" single byte (order does not apply). */
export type ByteOrder = "<" | ">" | "|";

export interface DType {
  /** numpy's canonical name: "float64". */
  readonly name: DTypeName;
  /** numpy's kind character: b(ool), i(nt), u(nsigned), f(loat). */
  readonly kind: "b" | "i" | "u" | "f";
  /** Bytes per element. */
  readonly itemsize: 1 | 2 | 4 | 8;
  /** Byte order of the data described by this dtype. */
  readonly byteOrder: ByteOrder;
  /** True when the bytes can be read by a TypedArray on this machine as they are (single byte, or machine order). */
  readonly native: boolean;
  /** numpy's dtype.str: "<f8", ">i4", "|u1", "|b1". */
  readonly str: string;
  /** numpy's str(dtype), as pyzmq's recipe sends it: "float64" in machine order, ">f8" otherwise. */
  readonly descr: string;
  /** The TypedArray that holds it (in machine order). */
  readonly arrayType: TypedArrayConstructor;
}

/** The byte order of this machine, as a numpy byte-order mark. */
export const hostByteOrder: "<" | ">" = endianness() === "LE" ? "<" : ">";

interface Base {
  name: DTypeName;
  kind: DType["kind"];
  itemsize: DType["itemsize"];
  arrayType: TypedArrayConstructor;
}

const BASES: Record<DTypeName, Base> = {
  bool: { name: "bool", kind: "b", itemsize: 1, arrayType: Uint8Array },
  int8: { name: "int8", kind: "i", itemsize: 1, arrayType: Int8Array },
  uint8: { name: "uint8", kind: "u", itemsize: 1, arrayType: Uint8Array },
  int16: { name: "int16", kind: "i", itemsize: 2, arrayType: Int16Array },
  uint16: { name: "uint16", kind: "u", itemsize: 2, arrayType: Uint16Array },
  int32: { name: "int32", kind: "i", itemsize: 4, arrayType: Int32Array },
  uint32: { name: "uint32", kind: "u", itemsize: 4, arrayType: Uint32Array },
  int64: { name: "int64", kind: "i", itemsize: 8, arrayType: BigInt64Array },
  uint64: { name: "uint64", kind: "u", itemsize: 8, arrayType: BigUint64Array },
  float32: { name: "float32", kind: "f", itemsize: 4, arrayType: Float32Array },
  float64: { name: "float64", kind: "f", itemsize: 8, arrayType: Float64Array },
};

/** The supported dtype names, in the order of the table above. */
export const dtypeNames: readonly DTypeName[] = Object.freeze(Object.keys(BASES) as DTypeName[]);

/** numpy names (never preceded by a byte-order mark). */
const NAMES: Record<string, DTypeName> = {
  bool: "bool", bool_: "bool", bool8: "bool",
  int8: "int8", byte: "int8",
  uint8: "uint8", ubyte: "uint8",
  int16: "int16", short: "int16",
  uint16: "uint16", ushort: "uint16",
  int32: "int32", intc: "int32",
  uint32: "uint32", uintc: "uint32",
  int64: "int64", int: "int64", int_: "int64", long: "int64", longlong: "int64", intp: "int64", int0: "int64",
  uint64: "uint64", uint: "uint64", ulong: "uint64", ulonglong: "uint64", uintp: "uint64", uint0: "uint64",
  float32: "float32", single: "float32",
  float64: "float64", double: "float64", float: "float64", float_: "float64",
};

/** numpy one-character type codes (a byte-order mark may precede them). */
const CODES: Record<string, DTypeName> = {
  "?": "bool",
  b: "int8", B: "uint8",
  h: "int16", H: "uint16",
  i: "int32", I: "uint32",
  l: "int64", L: "uint64", q: "int64", Q: "uint64", p: "int64", P: "uint64",
  f: "float32", d: "float64",
};

/** kind letter + size (a byte-order mark may precede them). */
const SIZED: Record<string, DTypeName> = {
  b1: "bool",
  i1: "int8", u1: "uint8",
  i2: "int16", u2: "uint16",
  i4: "int32", u4: "uint32",
  i8: "int64", u8: "uint64",
  f4: "float32", f8: "float64",
};

/** What numpy calls the dtypes no TypedArray can hold, and what to do instead. */
const UNSUPPORTED_NAMES: Record<string, string> = {
  float16: "half-precision float", half: "half-precision float",
  float128: "extended-precision float", longdouble: "extended-precision float", longfloat: "extended-precision float",
  complex64: "complex", complex128: "complex", complex256: "complex", complex: "complex", complex_: "complex",
  csingle: "complex", cdouble: "complex", clongdouble: "complex", cfloat: "complex", clongfloat: "complex",
  singlecomplex: "complex", longcomplex: "complex",
  object: "object", object_: "object", object0: "object",
  str: "string", str_: "string", unicode: "string", unicode_: "string", bytes: "string", bytes_: "string",
  string_: "string", void: "void", void0: "void", datetime64: "datetime", timedelta64: "datetime",
};

const UNSUPPORTED_CODES: Record<string, string> = {
  e: "half-precision float", g: "extended-precision float",
  F: "complex", D: "complex", G: "complex", c: "complex",
  O: "object", S: "string", a: "string", U: "string", V: "void", M: "datetime", m: "datetime",
};

const ADVICE: Record<string, string> = {
  "half-precision float": `Node has no Float16Array; convert on the numpy side, e.g. A.astype("float32")`,
  "extended-precision float": `convert on the numpy side, e.g. A.astype("float64")`,
  complex: `send the real and imaginary parts as float64 (e.g. A.view("float64"), which interleaves them)`,
  object: "Python objects have no fixed binary layout",
  string: "fixed-width strings have no TypedArray; send them as text frames",
  void: "raw or structured records have no TypedArray; send one array per field",
  datetime: `send the raw counts instead, e.g. A.view("int64")`,
  structured: "send one array per field",
};

function unsupported(dtype: string, what: string): ZmqError {
  return zmqError(
    "EINVAL",
    `dtype ${JSON.stringify(dtype)} (${what}) is not supported: no TypedArray can hold it; ${ADVICE[what] ?? ""}`.replace(/; $/, ""),
  );
}

function unknown(dtype: string): ZmqError {
  return zmqError(
    "EINVAL",
    `unknown dtype ${JSON.stringify(dtype)}: expected a numpy dtype such as "float64", "<f8", ">i4", "|u1", "int64" or "bool"`,
  );
}

const cache = new Map<string, DType>();

function make(base: Base, order: ByteOrder): DType {
  const key = base.name + order;
  let d = cache.get(key);
  if (d) return d;
  const byteOrder: ByteOrder = base.itemsize === 1 ? "|" : order;
  const native = byteOrder === "|" || byteOrder === hostByteOrder;
  const str = `${byteOrder}${base.kind}${base.itemsize}`;
  d = Object.freeze({
    name: base.name,
    kind: base.kind,
    itemsize: base.itemsize,
    byteOrder,
    native,
    str,
    descr: native ? base.name : str,
    arrayType: base.arrayType,
  });
  cache.set(key, d);
  return d;
}

/**
 * Parses a numpy dtype string ("float64", "<f8", ">i4", "|u1", "=f4", "d", "bool", ...).
 * Throws EINVAL for an unknown dtype, and for one that no TypedArray can hold
 * (float16, complex, object, strings, ...), naming it.
 */
export function parseDType(dtype: string): DType {
  if (typeof dtype !== "string") {
    throw zmqError("EINVAL", `dtype must be a string such as "float64" or "<f8", got ${typeof dtype}`);
  }
  if (Object.hasOwn(NAMES, dtype)) return make(BASES[NAMES[dtype]!], hostByteOrder);

  // Structured dtypes: str() of one is a Python list ("[('a', '<i4')]"); "i4,f8" is a record too.
  if (dtype.startsWith("[") || dtype.startsWith("{") || dtype.startsWith("(") || dtype.includes(",")) {
    throw unsupported(dtype, "structured");
  }
  const bare = dtype.replace(/\[[^\]]*\]$/, ""); // datetime64[ns] -> datetime64
  if (Object.hasOwn(UNSUPPORTED_NAMES, bare)) throw unsupported(dtype, UNSUPPORTED_NAMES[bare]!);

  let order: ByteOrder | "=" = "=";
  let rest = dtype;
  const mark = dtype[0];
  if (mark === "<" || mark === ">" || mark === "=" || mark === "|") {
    order = mark;
    rest = dtype.slice(1);
  }
  const resolved: ByteOrder = order === "=" || order === "|" ? hostByteOrder : order;

  const code = Object.hasOwn(CODES, rest) ? CODES[rest] : Object.hasOwn(SIZED, rest) ? SIZED[rest] : undefined;
  if (code !== undefined) return make(BASES[code], resolved);

  // Codes with a size or unit that no TypedArray holds: f2, f16, c8, c16, O8, U5, S3, M8[ns], m8, V12, ...
  const m = /^([a-zA-Z?])(\d*)(\[[^\]]*\])?$/.exec(rest);
  if (m) {
    const [, letter, size] = m as unknown as [string, string, string];
    if (letter === "f" && (size === "2" || size === "12" || size === "16")) {
      throw unsupported(dtype, size === "2" ? "half-precision float" : "extended-precision float");
    }
    if (Object.hasOwn(UNSUPPORTED_CODES, letter)) throw unsupported(dtype, UNSUPPORTED_CODES[letter]!);
  }
  throw unknown(dtype);
}

const NAME_OF = new Map<unknown, DTypeName>([
  [Int8Array, "int8"],
  [Uint8Array, "uint8"],
  [Uint8ClampedArray, "uint8"],
  [Int16Array, "int16"],
  [Uint16Array, "uint16"],
  [Int32Array, "int32"],
  [Uint32Array, "uint32"],
  [BigInt64Array, "int64"],
  [BigUint64Array, "uint64"],
  [Float32Array, "float32"],
  [Float64Array, "float64"],
]);

/** The TypedArray constructor for a numpy dtype string; throws as parseDType does. */
export function arrayTypeFor(dtype: string): TypedArrayConstructor {
  return parseDType(dtype).arrayType;
}

/** The dtype of a TypedArray (or of its constructor), in this machine's byte order. Subclasses such as Buffer map to their base class. */
export function dtypeOf(array: TypedArray | TypedArrayConstructor): DType {
  const name = baseName(array);
  if (name === undefined) {
    const what = typeof array === "function" ? array.name : describeValue(array);
    throw zmqError("EINVAL", `no numpy dtype for ${what}: pass a TypedArray such as Float64Array or BigInt64Array`);
  }
  return make(BASES[name], hostByteOrder);
}

/** True when `value` is one of the TypedArrays above (a Buffer counts: it is a Uint8Array). */
export function isTypedArray(value: unknown): value is TypedArray {
  return ArrayBuffer.isView(value) && baseName(value) !== undefined;
}

/** The numpy name of a TypedArray class, walking up from subclasses (Buffer -> Uint8Array). */
function baseName(value: unknown): DTypeName | undefined {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return undefined;
  let c: unknown = typeof value === "function" ? value : (value as object).constructor;
  for (let depth = 0; depth < 8 && typeof c === "function"; depth++) {
    const name = NAME_OF.get(c);
    if (name !== undefined) return name;
    c = Object.getPrototypeOf(c);
  }
  return undefined;
}

/** A short description of a value for error messages. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an Array";
  if (typeof value !== "object") return typeof value;
  const name = (value as object).constructor?.name;
  return name ? `${/^[AEIOU]/.test(name) ? "an" : "a"} ${name}` : "an object";
}
