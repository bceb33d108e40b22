/**
 * codec: values as JSON plus out-of-band buffers. Typed arrays leave as views of their
 * memory (no copy) and come back as views of the received frames; what JSON cannot say
 * round-trips through markers; malformed markers are EPROTO.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { encodeValue, decodeValue, encodeValues } from "../../src/cluster/codec.js";
import { Session } from "../../src/cluster/session.js";
import { ClusterError } from "../../src/cluster/errors.js";

const roundTrip = (v: unknown) => {
  const buffers: Buffer[] = [];
  const json = JSON.parse(JSON.stringify(encodeValue(v, buffers)));
  return decodeValue(json, buffers);
};

describe("codec", () => {
  test("plain and special values round-trip", () => {
    const values: unknown[] = [
      1, "s", true, null, undefined, NaN, Infinity, -Infinity, -0, 12345678901234567890n, -5n,
      new Date("2024-01-02T03:04:05.000Z"), [1, [2, undefined]], { a: { b: [null] } },
      new Map<unknown, unknown>([["k", 1], [2, new Set([3])]]), new Set(["x"]), { __zt__: "looks like a marker" },
    ];
    for (const v of values) assert.deepEqual(roundTrip(v), v);
    assert.ok(Object.is(roundTrip(-0), -0));
    const err = roundTrip(Object.assign(new RangeError("bad"), { code: "EBAD" })) as Error & { code: string };
    assert.equal(err.name, "RangeError");
    assert.equal(err.message, "bad");
    assert.equal(err.code, "EBAD");
  });

  test("typed arrays leave as views, without copying, and come back as views of the frames", () => {
    const backing = new Float64Array([0, 1, 2, 3, 4, 5]);
    const view = backing.subarray(2, 5);
    const buffers: Buffer[] = [];
    const json = encodeValue({ x: view, n: 3 }, buffers);
    assert.deepEqual(json, { x: { __zt__: "array", i: 0, dtype: "float64", length: 3 }, n: 3 });
    assert.equal(buffers[0]!.buffer, backing.buffer, "the frame shares the array's memory");
    assert.equal(buffers[0]!.byteOffset, 16);
    const back = decodeValue(json, buffers) as { x: Float64Array };
    assert.ok(back.x instanceof Float64Array);
    assert.deepEqual([...back.x], [2, 3, 4]);
    assert.equal(back.x.buffer, backing.buffer, "aligned frames decode to views");
  });

  test("every dtype, Buffers, ArrayBuffers and DataViews", () => {
    const arrays = [
      new Int8Array([-1, 2]), new Uint8Array([255]), new Uint8ClampedArray([7]), new Int16Array([-300]), new Uint16Array([60000]),
      new Int32Array([-7e8]), new Uint32Array([4e9]), new Float32Array([1.5]), new Float64Array([Math.PI]),
      new BigInt64Array([-5n]), new BigUint64Array([5n]),
    ];
    for (const a of arrays) {
      const back = roundTrip(a) as typeof a;
      // dtypes are numpy's: a Uint8ClampedArray travels as uint8.
      assert.equal(back.constructor, a instanceof Uint8ClampedArray ? Uint8Array : a.constructor);
      assert.deepEqual([...back], [...a]);
    }
    const b = roundTrip(Buffer.from("hi")) as Buffer;
    assert.ok(Buffer.isBuffer(b));
    assert.equal(b.toString(), "hi");
    const ab = roundTrip(new Uint8Array([1, 2]).buffer) as ArrayBuffer;
    assert.ok(ab instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(ab)], [1, 2]);
    const dv = roundTrip(new DataView(new Uint8Array([3, 4]).buffer)) as Buffer;
    assert.deepEqual([...dv], [3, 4]);
  });

  test("an unaligned frame is copied once into aligned memory", () => {
    const chunk = Buffer.alloc(17);
    const frame = chunk.subarray(1);
    new Float64Array(2).fill(2.5).forEach((v, i) => frame.writeDoubleLE(v, i * 8));
    const back = decodeValue({ __zt__: "array", i: 0, dtype: "float64", length: 2 }, [frame]) as Float64Array;
    assert.deepEqual([...back], [2.5, 2.5]);
    assert.equal(back.byteOffset % 8, 0);
  });

  test("through a signed message, arrays are separate frames after the content", () => {
    const s = new Session({ key: "k" });
    const { json, buffers } = encodeValues([new Int32Array([1, 2, 3]), "x"]);
    const { frames } = s.build("apply_request", { args: json }, { buffers });
    assert.equal(frames.length, 7);
    const msg = s.deserialize(frames);
    const [arr, x] = (msg.content.args as unknown[]).map((v) => decodeValue(v, msg.buffers));
    assert.deepEqual([...(arr as Int32Array)], [1, 2, 3]);
    assert.equal(x, "x");
  });

  test("functions, symbols and cycles are refused (EINVAL); bad markers are EPROTO", () => {
    const einval = (e: unknown) => e instanceof ClusterError && e.code === "EINVAL";
    assert.throws(() => encodeValue(() => 1, []), einval);
    assert.throws(() => encodeValue(Symbol("s"), []), einval);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => encodeValue(cyclic, []), einval);
    const shared = { a: 1 };
    assert.deepEqual(roundTrip([shared, shared]), [{ a: 1 }, { a: 1 }], "a repeated (not cyclic) object is fine");
    const eproto = (e: unknown) => e instanceof ClusterError && e.code === "EPROTO";
    assert.throws(() => decodeValue({ __zt__: "array", i: 1, dtype: "float64" }, [Buffer.alloc(8)]), eproto);
    assert.throws(() => decodeValue({ __zt__: "array", i: 0, dtype: "float128" }, [Buffer.alloc(8)]), eproto);
    assert.throws(() => decodeValue({ __zt__: "array", i: 0, dtype: "float64", length: 2 }, [Buffer.alloc(8)]), eproto);
    assert.throws(() => decodeValue({ __zt__: "array", i: 0, dtype: "float64" }, [Buffer.alloc(7)]), eproto);
    assert.throws(() => decodeValue({ __zt__: "nope" }, []), eproto);
    assert.throws(() => decodeValue({ __zt__: "bigint", v: "12x" }, []), eproto);
    assert.throws(() => decodeValue({ __zt__: "map", v: [[1]] }, []), eproto);
    assert.throws(() => decodeValue({ __zt__: "object", v: [] }, []), eproto);
  });
});
