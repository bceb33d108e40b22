/**
 * numpy dtype strings <-> TypedArrays (src/arrays/dtype.ts): the mapping table both
 * ways, byte-order forms, the dtypes no TypedArray holds, and a cross-check of every
 * spelling against Debian's numpy (/usr/bin/python3) itself.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import {
  parseDType, dtypeOf, arrayTypeFor, isTypedArray, dtypeNames, hostByteOrder, type TypedArrayConstructor,
} from "../../src/arrays/index.js";
import { within } from "../helpers/util.js";

// The expectations below are written for a little-endian machine (x86-64, arm64).
const LE = hostByteOrder === "<";

/** spelling -> [name, numpy dtype.str, numpy str(dtype), TypedArray] */
const TABLE: Array<[string, string, string, string, TypedArrayConstructor]> = [
  // canonical names
  ["bool", "bool", "|b1", "bool", Uint8Array],
  ["int8", "int8", "|i1", "int8", Int8Array],
  ["uint8", "uint8", "|u1", "uint8", Uint8Array],
  ["int16", "int16", "<i2", "int16", Int16Array],
  ["uint16", "uint16", "<u2", "uint16", Uint16Array],
  ["int32", "int32", "<i4", "int32", Int32Array],
  ["uint32", "uint32", "<u4", "uint32", Uint32Array],
  ["int64", "int64", "<i8", "int64", BigInt64Array],
  ["uint64", "uint64", "<u8", "uint64", BigUint64Array],
  ["float32", "float32", "<f4", "float32", Float32Array],
  ["float64", "float64", "<f8", "float64", Float64Array],
  // byte-order forms
  ["<f8", "float64", "<f8", "float64", Float64Array],
  [">f8", "float64", ">f8", ">f8", Float64Array],
  ["=f4", "float32", "<f4", "float32", Float32Array],
  ["|f8", "float64", "<f8", "float64", Float64Array],
  ["|u1", "uint8", "|u1", "uint8", Uint8Array],
  [">u1", "uint8", "|u1", "uint8", Uint8Array],
  ["<i1", "int8", "|i1", "int8", Int8Array],
  [">i4", "int32", ">i4", ">i4", Int32Array],
  ["<i4", "int32", "<i4", "int32", Int32Array],
  [">i2", "int16", ">i2", ">i2", Int16Array],
  [">u2", "uint16", ">u2", ">u2", Uint16Array],
  [">u4", "uint32", ">u4", ">u4", Uint32Array],
  [">i8", "int64", ">i8", ">i8", BigInt64Array],
  [">u8", "uint64", ">u8", ">u8", BigUint64Array],
  [">f4", "float32", ">f4", ">f4", Float32Array],
  ["|b1", "bool", "|b1", "bool", Uint8Array],
  [">b1", "bool", "|b1", "bool", Uint8Array],
  ["b1", "bool", "|b1", "bool", Uint8Array],
  ["i8", "int64", "<i8", "int64", BigInt64Array],
  ["u2", "uint16", "<u2", "uint16", Uint16Array],
  // one-character codes
  ["?", "bool", "|b1", "bool", Uint8Array],
  ["<?", "bool", "|b1", "bool", Uint8Array],
  ["b", "int8", "|i1", "int8", Int8Array],
  ["B", "uint8", "|u1", "uint8", Uint8Array],
  ["h", "int16", "<i2", "int16", Int16Array],
  ["H", "uint16", "<u2", "uint16", Uint16Array],
  ["i", "int32", "<i4", "int32", Int32Array],
  [">i", "int32", ">i4", ">i4", Int32Array],
  ["I", "uint32", "<u4", "uint32", Uint32Array],
  ["l", "int64", "<i8", "int64", BigInt64Array],
  ["L", "uint64", "<u8", "uint64", BigUint64Array],
  ["q", "int64", "<i8", "int64", BigInt64Array],
  ["Q", "uint64", "<u8", "uint64", BigUint64Array],
  ["p", "int64", "<i8", "int64", BigInt64Array],
  ["f", "float32", "<f4", "float32", Float32Array],
  ["<f", "float32", "<f4", "float32", Float32Array],
  ["d", "float64", "<f8", "float64", Float64Array],
  [">d", "float64", ">f8", ">f8", Float64Array],
  // numpy aliases (LP64)
  ["double", "float64", "<f8", "float64", Float64Array],
  ["float", "float64", "<f8", "float64", Float64Array],
  ["single", "float32", "<f4", "float32", Float32Array],
  ["int", "int64", "<i8", "int64", BigInt64Array],
  ["uint", "uint64", "<u8", "uint64", BigUint64Array],
  ["intc", "int32", "<i4", "int32", Int32Array],
  ["uintc", "uint32", "<u4", "uint32", Uint32Array],
  ["longlong", "int64", "<i8", "int64", BigInt64Array],
  ["ulonglong", "uint64", "<u8", "uint64", BigUint64Array],
  ["short", "int16", "<i2", "int16", Int16Array],
  ["ushort", "uint16", "<u2", "uint16", Uint16Array],
  ["byte", "int8", "|i1", "int8", Int8Array],
  ["ubyte", "uint8", "|u1", "uint8", Uint8Array],
  ["intp", "int64", "<i8", "int64", BigInt64Array],
  ["bool_", "bool", "|b1", "bool", Uint8Array],
];

/** Real numpy dtypes that no TypedArray can hold, and a word the error must contain. */
const UNSUPPORTED: Array<[string, string]> = [
  ["float16", "half-precision"],
  ["half", "half-precision"],
  ["f2", "half-precision"],
  ["<f2", "half-precision"],
  ["e", "half-precision"],
  ["float128", "extended-precision"],
  ["longdouble", "extended-precision"],
  ["g", "extended-precision"],
  ["f16", "extended-precision"],
  ["complex64", "complex"],
  ["complex128", "complex"],
  ["<c16", "complex"],
  [">c8", "complex"],
  ["D", "complex"],
  ["object", "object"],
  ["O", "object"],
  ["|O", "object"],
  ["<U5", "string"],
  ["U", "string"],
  ["|S3", "string"],
  ["a5", "string"],
  ["str", "string"],
  ["bytes", "string"],
  ["datetime64[ns]", "datetime"],
  ["<M8[ns]", "datetime"],
  ["timedelta64[s]", "datetime"],
  ["m8", "datetime"],
  ["|V8", "void"],
  ["i4,f8", "structured"],
  ["[('a', '<i4'), ('b', '<f8')]", "structured"],
];

/** Not numpy dtypes at all. */
const UNKNOWN = ["Float64", "float64 ", " f8", ">float64", ">int", "<bool", "i3", "f1", "b2", "i16", "", "x", "constructor", "toString"];

describe("dtype", { skip: LE ? false : "expectations are written for a little-endian machine" }, () => {
  test("mapping table: numpy spellings -> name, dtype.str, str(dtype), TypedArray", () => {
    for (const [spelling, name, str, descr, ctor] of TABLE) {
      const d = parseDType(spelling);
      assert.deepEqual(
        { name: d.name, str: d.str, descr: d.descr, arrayType: d.arrayType.name },
        { name, str, descr, arrayType: ctor.name },
        spelling,
      );
      assert.equal(d.itemsize, ctor.BYTES_PER_ELEMENT, spelling);
      assert.equal(d.native, !str.startsWith(">"), spelling);
      assert.equal(arrayTypeFor(spelling), ctor, spelling);
      assert.ok(Object.isFrozen(d));
    }
    assert.deepEqual([...dtypeNames], ["bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64"]);
  });

  test("TypedArray -> dtype, both directions agree", () => {
    const cases: Array<[TypedArrayConstructor, string]> = [
      [Int8Array, "int8"], [Uint8Array, "uint8"], [Uint8ClampedArray, "uint8"], [Int16Array, "int16"],
      [Uint16Array, "uint16"], [Int32Array, "int32"], [Uint32Array, "uint32"], [BigInt64Array, "int64"],
      [BigUint64Array, "uint64"], [Float32Array, "float32"], [Float64Array, "float64"],
    ];
    for (const [ctor, name] of cases) {
      assert.equal(dtypeOf(ctor).name, name, ctor.name);
      assert.equal(dtypeOf(new ctor(3)).name, name, ctor.name);
      assert.equal(dtypeOf(ctor).str, parseDType(name).str);
      if (ctor !== Uint8ClampedArray) assert.equal(parseDType(dtypeOf(ctor).str).arrayType, ctor);
      assert.equal(isTypedArray(new ctor(1)), true);
    }
    // Subclasses map to their base: a Buffer is a Uint8Array.
    assert.equal(dtypeOf(Buffer.alloc(4)).name, "uint8");
    class Samples extends Float64Array {}
    assert.equal(dtypeOf(new Samples(2)).name, "float64");
    for (const v of [new DataView(new ArrayBuffer(8)), new ArrayBuffer(8), [1, 2], null, "x", {}]) {
      assert.equal(isTypedArray(v), false);
    }
    assert.throws(() => dtypeOf(DataView as unknown as TypedArrayConstructor), { code: "EINVAL", message: /DataView.*pass a TypedArray/ });
  });

  test("dtypes no TypedArray can hold: EINVAL naming the dtype", () => {
    for (const [spelling, word] of UNSUPPORTED) {
      assert.throws(
        () => parseDType(spelling),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, "EINVAL", spelling);
          assert.ok(e.message.includes(JSON.stringify(spelling)), `${spelling}: ${e.message}`);
          assert.match(e.message, /no TypedArray can hold it/, spelling);
          assert.ok(e.message.includes(word), `${spelling}: ${e.message}`);
          return true;
        },
      );
    }
    assert.throws(() => parseDType("float16"), { message: /Float16Array/ });
  });

  test("unknown spellings: EINVAL 'unknown dtype' with examples", () => {
    for (const spelling of UNKNOWN) {
      assert.throws(() => parseDType(spelling), { code: "EINVAL", message: /^unknown dtype .*expected a numpy dtype such as "float64"/ }, spelling);
    }
    assert.throws(() => parseDType(42 as unknown as string), { code: "EINVAL", message: /dtype must be a string/ });
  });

  test("every spelling agrees with Debian's numpy", async () => {
    const spellings = [...TABLE.map((r) => r[0]), ...UNSUPPORTED.map((r) => r[0]), ...UNKNOWN];
    const script = [
      "import json, sys, numpy as np",
      "out = {}",
      "for s in json.loads(sys.argv[1]):",
      "    try:",
      "        d = np.dtype(s); out[s] = [str(d), d.str, d.kind]",
      "    except Exception:",
      "        out[s] = None",
      "print(json.dumps(out))",
    ].join("\n");
    const stdout = await within(
      new Promise<string>((resolve, reject) => {
        execFile("/usr/bin/python3", ["-c", script, JSON.stringify(spellings)], { timeout: 20000 }, (err, out) =>
          err ? reject(err) : resolve(out),
        );
      }),
      25000,
      "python3 -c numpy dtypes",
    );
    const numpy = JSON.parse(stdout) as Record<string, [string, string, string] | null>;
    for (const [spelling] of TABLE) {
      const d = parseDType(spelling);
      assert.deepEqual([d.descr, d.str, d.kind], numpy[spelling], `numpy.dtype(${JSON.stringify(spelling)})`);
    }
    // str() of a structured dtype (what the recipe would send) is not itself a dtype string numpy parses.
    for (const [spelling] of UNSUPPORTED) if (!spelling.startsWith("[")) assert.notEqual(numpy[spelling], null, `numpy knows ${spelling}`);
    for (const spelling of UNKNOWN) assert.equal(numpy[spelling], null, `numpy refuses ${JSON.stringify(spelling)}`);
  });
});
