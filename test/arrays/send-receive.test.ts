/**
 * sendArray / receiveArray (src/arrays/send-receive.ts): pyzmq's send_array/recv_array
 * wire format, zero-copy over inproc (same memory), round trips over tcp and ipc,
 * big-endian conversion, the alignment copy, prefixes and metadata, and every error
 * case (EINVAL on send, nothing sent; EPROTO on receive, the next message intact).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import * as zmq from "../../src/index.js";
import {
  sendArray, receiveArray, encodeArray, decodeArray, hostByteOrder, type TypedArray, type ArrayProtocolError,
} from "../../src/arrays/index.js";
import { pyJson } from "../../src/arrays/send-receive.js";
import { within, link } from "../helpers/util.js";

const T = 5000;
const LE = hostByteOrder === "<";

type Transport = "inproc" | "tcp" | "ipc";

/** A connected PAIR couple over `transport`; `run` gets them, both are closed after. */
async function withPair(transport: Transport, run: (a: zmq.Pair, b: zmq.Pair) => Promise<void>): Promise<void> {
  const a = new zmq.Pair({ linger: 0 });
  const b = new zmq.Pair({ linger: 0 });
  try {
    await link(a, b, transport);
    await run(a, b);
  } finally {
    a.close();
    b.close();
  }
}

const recv = (s: zmq.Socket, options?: { prefix?: number }) => within(receiveArray(s, options), T, "receiveArray");

/** Deterministic float64 values. */
function floats(n: number): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(i) * 1e6 + i / 7;
  return a;
}

function assertSameElements(actual: TypedArray, expected: TypedArray, what: string): void {
  assert.equal(actual.constructor, expected.constructor, `${what}: type`);
  assert.equal(actual.length, expected.length, `${what}: length`);
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
  const e = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  assert.ok(a.equals(e), `${what}: elements differ`);
}

describe("arrays: wire format", { skip: LE ? false : "written for a little-endian machine" }, () => {
  test("frames are pyzmq's recipe: json.dumps(dict(dtype=str(A.dtype), shape=A.shape)), then the bytes as a view", () => {
    const data = floats(6);
    const frames = encodeArray({ data, shape: [2, 3] });
    assert.equal(frames.length, 2);
    assert.equal(frames[0]!.toString(), '{"dtype": "float64", "shape": [2, 3]}');
    assert.equal(frames[1]!.buffer, data.buffer, "data frame is a view, not a copy");
    assert.equal(frames[1]!.byteOffset, data.byteOffset);
    assert.equal(frames[1]!.length, 48);

    assert.equal(encodeArray(new Int32Array(4))[0]!.toString(), '{"dtype": "int32", "shape": [4]}');
    assert.equal(encodeArray(new BigUint64Array(1))[0]!.toString(), '{"dtype": "uint64", "shape": [1]}');
    assert.equal(encodeArray(new Uint8ClampedArray(2))[0]!.toString(), '{"dtype": "uint8", "shape": [2]}');
    assert.equal(encodeArray(new Uint8Array([1, 0]), { dtype: "bool" })[0]!.toString(), '{"dtype": "bool", "shape": [2]}');
    assert.equal(encodeArray(new Float64Array(4), { dtype: "<f8" })[0]!.toString(), '{"dtype": "float64", "shape": [4]}');
    assert.equal(encodeArray(new Int32Array(2), { dtype: ">i4" })[0]!.toString(), '{"dtype": ">i4", "shape": [2]}');
    assert.equal(encodeArray({ data: new Float32Array(1), shape: [] })[0]!.toString(), '{"dtype": "float32", "shape": []}');
    assert.equal(encodeArray({ data: new Float32Array(0), shape: [0, 5] })[0]!.toString(), '{"dtype": "float32", "shape": [0, 5]}');
    // A Buffer is sent as itself.
    const buf = Buffer.from("abc");
    assert.equal(encodeArray(buf)[1], buf);
  });

  test("extra metadata follows dtype and shape, written as Python's json.dumps writes it", () => {
    const frames = encodeArray(new Float64Array(2), {
      metadata: { name: "temperature", t: 1.5, tags: ["a", "b"], nested: { ok: true, none: null }, "ü": "é\u2603\n" },
      prefix: ["topic", Buffer.from([0, 1]), new Uint8Array([7])],
    });
    assert.deepEqual(frames.slice(0, 3).map((f) => [...f]), [[...Buffer.from("topic")], [0, 1], [7]]);
    assert.equal(
      frames[3]!.toString(),
      '{"dtype": "float64", "shape": [2], "name": "temperature", "t": 1.5, "tags": ["a", "b"], ' +
        '"nested": {"ok": true, "none": null}, "\\u00fc": "\\u00e9\\u2603\\n"}',
    );
    assert.equal(pyJson("\u007f\u0001"), '"\\u007f\\u0001"');
    const back = decodeArray(frames);
    assert.equal(back.prefix.length, 3);
    assert.deepEqual(back.metadata, {
      dtype: "float64", shape: [2], name: "temperature", t: 1.5, tags: ["a", "b"], nested: { ok: true, none: null }, "ü": "é\u2603\n",
    });
  });
});

describe("arrays: round trips", () => {
  test("inproc: zero copy, the receiver's array is the sender's memory", async () => {
    await withPair("inproc", async (a, b) => {
      const backing = new ArrayBuffer(8 * 16);
      const sent = new Float64Array(backing, 8 * 4, 6);
      sent.set(floats(6));
      await sendArray(a, { data: sent, shape: [2, 3] });
      const got = await recv(b);
      assert.equal(got.array.buffer, sent.buffer, "same ArrayBuffer");
      assert.equal(got.array.byteOffset, sent.byteOffset);
      assert.equal(got.array.length, 6);
      assert.ok(got.array instanceof Float64Array);
      assert.equal(got.copied, false);
      assert.equal(got.dtype, "float64");
      assert.deepEqual(got.shape, [2, 3]);
      assert.deepEqual(got.metadata, { dtype: "float64", shape: [2, 3] });
      assert.deepEqual(got.prefix, []);
      sent[0] = 42;
      assert.equal(got.array[0], 42, "writes show through: one memory");
    });
  });

  test("inproc: every TypedArray kind, with extremes, arrives as the same type", async () => {
    const cases: TypedArray[] = [
      Int8Array.of(-128, 0, 127),
      Uint8Array.of(0, 255),
      Uint8ClampedArray.of(0, 128, 255),
      Int16Array.of(-32768, 32767),
      Uint16Array.of(0, 65535),
      Int32Array.of(-(2 ** 31), 2 ** 31 - 1),
      Uint32Array.of(0, 2 ** 32 - 1),
      BigInt64Array.of(-(2n ** 63n), 2n ** 63n - 1n, 0n),
      BigUint64Array.of(0n, 2n ** 64n - 1n),
      Float32Array.of(-0, Math.fround(3.4e38), Number.NaN, Infinity),
      Float64Array.of(Number.MIN_VALUE, Number.MAX_VALUE, -Infinity, Number.NaN),
    ];
    await withPair("inproc", async (a, b) => {
      for (const c of cases) {
        await sendArray(a, c);
        const got = await recv(b);
        const expected = c instanceof Uint8ClampedArray ? new Uint8Array(c.buffer) : c;
        assertSameElements(got.array, expected, c.constructor.name);
        assert.equal(got.array.buffer, c.buffer, `${c.constructor.name}: zero copy`);
      }
    });
  });

  test("inproc: a SharedArrayBuffer-backed Float64Array arrives as the same shared memory", async () => {
    await withPair("inproc", async (a, b) => {
      const sab = new SharedArrayBuffer(8 * 1024);
      const sent = new Float64Array(sab, 8 * 24, 1000);
      sent.set(floats(1000));
      await sendArray(a, { data: sent, shape: [10, 100] });
      const got = await recv(b);
      assert.ok(got.array.buffer instanceof SharedArrayBuffer);
      assert.equal(got.array.buffer, sab);
      assert.equal(got.array.byteOffset, 8 * 24);
      assert.equal(got.copied, false);
      (got.array as Float64Array)[999] = -1;
      assert.equal(sent[999], -1);
    });
  });

  for (const transport of ["tcp", "ipc"] as const) {
    test(`${transport}: arrays of every shape and size arrive intact; large ones are not copied again`, async () => {
      await withPair(transport, async (a, b) => {
        const big = floats((8 << 20) / 8); // 8 MiB
        const offset = new Float32Array(floats(11)).subarray(3);
        const sends: Array<[TypedArray, number[] | undefined]> = [
          [floats(6), [2, 3]],
          [Int32Array.of(-(2 ** 31), 2 ** 31 - 1, 0, 1), [4]],
          [BigInt64Array.of(-(2n ** 63n), 2n ** 63n - 1n), [2]],
          [offset, [2, 4]],
          [new Float64Array(0), [0, 3]],
          [Float64Array.of(2.5), []],
          [big, [1024, 1024]],
          [new Uint16Array(100_001).map((_, i) => i), undefined],
        ];
        for (const [data, shape] of sends) {
          await sendArray(a, shape === undefined ? data : { data, shape });
          const got = await recv(b);
          assertSameElements(got.array, data, `${data.constructor.name}[${shape?.join("x") ?? data.length}]`);
          assert.deepEqual(got.shape, shape ?? [data.length]);
          assert.equal(got.array.byteOffset % data.BYTES_PER_ELEMENT, 0, "aligned");
          if (data === big) assert.equal(got.copied, false, "an 8 MiB frame lands aligned and is used in place");
        }
      });
    });
  }

  test("PUB/SUB: a topic prefix goes ahead of the array and comes back as prefix", async () => {
    const pub = new zmq.Publisher({ linger: 0 });
    const sub = new zmq.Subscriber({ linger: 0 });
    try {
      await link(pub, sub, "inproc");
      sub.subscribe("temps");
      const data = floats(4);
      const got = await within((async () => {
        // Subscriptions travel to the publisher asynchronously: publish until one arrives.
        for (;;) {
          await sendArray(pub, { data, shape: [2, 2] }, { prefix: ["temps"], metadata: { unit: "C" } });
          sub.receiveTimeout = 20;
          try {
            return await receiveArray(sub, { prefix: 1 });
          } catch (e) {
            if ((e as zmq.ZmqError).code !== "EAGAIN") throw e;
          }
        }
      })(), T, "a published array");
      assert.deepEqual(got.prefix.map(String), ["temps"]);
      assert.equal(got.metadata.unit, "C");
      assert.deepEqual(got.shape, [2, 2]);
      assert.equal(got.array.buffer, data.buffer);
    } finally {
      pub.close();
      sub.close();
    }
  });

  test("ROUTER/DEALER over tcp: the routing id is the inferred prefix, and addresses the reply", async () => {
    const router = new zmq.Router({ linger: 0 });
    const dealer = new zmq.Dealer({ linger: 0, routingId: "d1" });
    try {
      await link(router, dealer, "tcp");
      await sendArray(dealer, Int16Array.of(1, -2, 3));
      const req = await recv(router);
      assert.deepEqual(req.prefix.map(String), ["d1"]);
      assertSameElements(req.array, Int16Array.of(1, -2, 3), "request");
      await sendArray(router, { data: Uint32Array.of(7, 8, 9, 10), shape: [2, 2] }, { prefix: req.prefix });
      const rep = await recv(dealer);
      assert.deepEqual(rep.prefix, []);
      assertSameElements(rep.array, Uint32Array.of(7, 8, 9, 10), "reply");
    } finally {
      router.close();
      dealer.close();
    }
  });
});

describe("arrays: conversions", { skip: LE ? false : "written for a little-endian machine" }, () => {
  test("big-endian data is byte-swapped into a new aligned array, the received bytes untouched", async () => {
    await withPair("inproc", async (a, b) => {
      const be = (dtype: string, shape: number[], body: Buffer) => [Buffer.from(pyJson({ dtype, shape })), body];

      const i4 = Buffer.alloc(24);
      for (let i = 0; i < 6; i++) i4.writeInt32BE(i - 3, i * 4);
      const i4Copy = Buffer.from(i4);
      await a.send(be(">i4", [2, 3], i4), { copy: false });
      let got = await recv(b);
      assert.ok(got.array instanceof Int32Array);
      assert.deepEqual([...got.array], [-3, -2, -1, 0, 1, 2]);
      assert.equal(got.dtype, "int32");
      assert.equal(got.metadata.dtype, ">i4");
      assert.equal(got.copied, true);
      assert.notEqual(got.array.buffer, i4.buffer);
      assert.ok(i4.equals(i4Copy), "the received frame is not swapped in place");

      const f8 = Buffer.alloc(16);
      f8.writeDoubleBE(Math.PI, 0);
      f8.writeDoubleBE(-1e-300, 8);
      await a.send(be(">f8", [2], f8), { copy: false });
      got = await recv(b);
      assert.deepEqual([...(got.array as Float64Array)], [Math.PI, -1e-300]);

      const i8 = Buffer.alloc(16);
      i8.writeBigInt64BE(-(2n ** 63n), 0);
      i8.writeBigInt64BE(0x0102030405060708n, 8);
      await a.send(be(">i8", [2], i8), { copy: false });
      got = await recv(b);
      assert.deepEqual([...(got.array as BigInt64Array)], [-(2n ** 63n), 0x0102030405060708n]);

      const u2 = Buffer.from([0x12, 0x34, 0xff, 0xfe]);
      await a.send(be(">u2", [2], u2), { copy: false });
      got = await recv(b);
      assert.deepEqual([...got.array], [0x1234, 0xfffe]);

      const f4 = Buffer.alloc(4);
      f4.writeFloatBE(1.5, 0);
      await a.send(be(">f4", [1], f4), { copy: false });
      got = await recv(b);
      assert.deepEqual([...got.array], [1.5]);

      // Little-endian spelled out is machine order here: a view.
      const le = Buffer.alloc(8);
      le.writeDoubleLE(2.25, 0);
      await a.send(be("<f8", [1], le), { copy: false });
      got = await recv(b);
      assert.equal(got.copied, false);
      assert.equal(got.array.buffer, le.buffer);

      // Single-byte data has no order: a view whatever the mark.
      const u1 = Buffer.from([1, 2, 3]);
      await a.send(be(">u1", [3], u1), { copy: false });
      got = await recv(b);
      assert.equal(got.copied, false);
      assert.equal(got.array.buffer, u1.buffer);
    });
  });

  test("unaligned data is copied once into an aligned buffer; aligned and single-byte data are not", async () => {
    await withPair("inproc", async (a, b) => {
      const values = floats(5);
      const raw = Buffer.alloc(8 * 5 + 1 + 8);
      const unaligned = raw.subarray(1, 1 + 40); // byteOffset 1 (+ the pool offset, a multiple of 8)
      Buffer.from(values.buffer).copy(unaligned);
      assert.notEqual(unaligned.byteOffset % 8, 0);
      await a.send([Buffer.from('{"dtype": "float64", "shape": [5]}'), unaligned], { copy: false });
      let got = await recv(b);
      assert.equal(got.copied, true);
      assert.equal(got.array.byteOffset % 8, 0);
      assert.notEqual(got.array.buffer, raw.buffer);
      assertSameElements(got.array, values, "unaligned float64");

      // int16 at an odd offset: copied; at an even offset: a view.
      const shorts = Buffer.alloc(16);
      shorts.writeInt16LE(-5, 3);
      shorts.writeInt16LE(300, 5);
      await a.send([Buffer.from('{"dtype": "int16", "shape": [2]}'), shorts.subarray(3, 7)], { copy: false });
      got = await recv(b);
      assert.equal(got.copied, true);
      assert.deepEqual([...got.array], [-5, 300]);
      await a.send([Buffer.from('{"dtype": "int16", "shape": [1]}'), shorts.subarray(4, 6)], { copy: false });
      got = await recv(b);
      assert.equal(got.copied, shorts.byteOffset % 2 !== 0);

      // uint8 / int8 / bool: any offset is aligned.
      await a.send([Buffer.from('{"dtype": "bool", "shape": [3]}'), raw.subarray(1, 4)], { copy: false });
      got = await recv(b);
      assert.equal(got.copied, false);
      assert.equal(got.array.buffer, raw.buffer);
      assert.ok(got.array instanceof Uint8Array);

      // An empty array at an odd offset still works.
      await a.send([Buffer.from('{"dtype": "float64", "shape": [0]}'), raw.subarray(1, 1)], { copy: false });
      got = await recv(b);
      assert.equal(got.array.length, 0);
    });
  });
});

describe("arrays: errors", () => {
  test("receive: malformed messages reject with EPROTO (errno 71) and the frames; the next message is intact", async () => {
    await withPair("inproc", async (a, b) => {
      const j = (s: string) => Buffer.from(s);
      const bad: Array<[Buffer[], RegExp, { prefix?: number }?]> = [
        [[j('{"dtype": "float64", "shape": [1]}')], /missing data frame/],
        [[], /got 0 frames/],
        [[j('{"dtype": float64}'), Buffer.alloc(8)], /metadata frame is not valid JSON/],
        [[j(""), Buffer.alloc(8)], /not valid JSON/],
        [[j("[1, 2]"), Buffer.alloc(8)], /must be a JSON object/],
        [[j("null"), Buffer.alloc(8)], /must be a JSON object/],
        [[j('{"shape": [1]}'), Buffer.alloc(8)], /no "dtype" string/],
        [[j('{"dtype": 8, "shape": [1]}'), Buffer.alloc(8)], /no "dtype" string/],
        [[j('{"dtype": "float64"}'), Buffer.alloc(8)], /shape must be an array of non-negative integers/],
        [[j('{"dtype": "float64", "shape": [-1]}'), Buffer.alloc(8)], /shape must be/],
        [[j('{"dtype": "float64", "shape": [1.5]}'), Buffer.alloc(8)], /shape must be/],
        [[j('{"dtype": "float64", "shape": "1"}'), Buffer.alloc(8)], /shape must be/],
        [[j('{"dtype": "float99", "shape": [1]}'), Buffer.alloc(8)], /unknown dtype "float99"/],
        [[j('{"dtype": "float16", "shape": [4]}'), Buffer.alloc(8)], /dtype "float16" .*no TypedArray can hold it/],
        [[j('{"dtype": "complex128", "shape": [1]}'), Buffer.alloc(16)], /dtype "complex128" .*no TypedArray can hold it/],
        [[j('{"dtype": "<U5", "shape": [1]}'), Buffer.alloc(20)], /no TypedArray can hold it/],
        [[j('{"dtype": "object", "shape": [1]}'), Buffer.alloc(8)], /no TypedArray can hold it/],
        [[j('{"dtype": "float64", "shape": [2, 3]}'), Buffer.alloc(40)], /data frame has 40 bytes, but shape \[2, 3\] of float64 \(8 bytes each\) needs 48/],
        [[j('{"dtype": ">i4", "shape": [3]}'), Buffer.alloc(13)], /13 bytes.*needs 12/],
        [[j("t"), j('{"dtype": "uint8", "shape": [1]}'), Buffer.alloc(1)], /expected 2 frames \(0 prefix/, { prefix: 0 }],
        [[j('{"dtype": "uint8", "shape": [1]}'), Buffer.alloc(1)], /expected 4 frames \(2 prefix/, { prefix: 2 }],
      ];
      const good = floats(3);
      for (const [frames, message, options] of bad) {
        await a.send(frames.length === 0 ? [Buffer.alloc(0)] : frames);
        await a.send(good);
        // An empty message cannot be sent; a single empty frame stands for it.
        const expectedFrames = frames.length === 0 ? [Buffer.alloc(0)] : frames;
        const what = `${frames.map((f) => f.toString("latin1").slice(0, 40)).join(" | ")}`;
        const err = await within(receiveArray(b, options).then(() => null, (e: unknown) => e), T, what);
        assert.ok(err instanceof Error, `${what}: rejected`);
        const pe = err as ArrayProtocolError;
        assert.equal(pe.code, "EPROTO", what);
        assert.equal(pe.errno, 71, what);
        if (frames.length > 0) assert.match(pe.message, message, what);
        assert.deepEqual(pe.frames.map((f) => [...f]), expectedFrames.map((f) => [...f]), `${what}: frames attached`);
        // The next message is the next message.
        const next = await within(b.receive(), T, "the raw next message");
        assert.ok(next[0]!.equals(Buffer.from(good.buffer)), `${what}: next message intact`);
      }
      // And after all that, a proper array still arrives.
      await sendArray(a, good);
      assertSameElements((await recv(b)).array, good, "after the errors");
    });
  });

  test("receive: the socket's own failures pass through unchanged (EAGAIN on timeout)", async () => {
    await withPair("inproc", async (_a, b) => {
      b.receiveTimeout = 10;
      await assert.rejects(receiveArray(b), { code: "EAGAIN" });
    });
  });

  test("receive: bad options reject with EINVAL before anything is consumed", async () => {
    await withPair("inproc", async (a, b) => {
      await sendArray(a, floats(2));
      for (const prefix of [-1, 1.5, Number.NaN, "1" as unknown as number]) {
        await assert.rejects(receiveArray(b, { prefix }), { code: "EINVAL", message: /options.prefix is the number of frames/ });
      }
      await assert.rejects(receiveArray(b, null as unknown as object), { code: "EINVAL" });
      assertSameElements((await recv(b)).array, floats(2), "still there");
    });
  });

  test("send: wrong input rejects with EINVAL saying what to pass, and sends nothing", async () => {
    await withPair("inproc", async (a, b) => {
      const f64 = floats(6);
      const bad: Array<[unknown, object | undefined, RegExp]> = [
        [[1, 2, 3], undefined, /got an Array; pass a TypedArray, e.g. Float64Array.from\(values\)/],
        [new ArrayBuffer(8), undefined, /got an ArrayBuffer; pass a TypedArray view of it, e.g. new Float64Array\(buffer\)/],
        [new SharedArrayBuffer(8), undefined, /pass a TypedArray view of it/],
        [new DataView(new ArrayBuffer(8)), undefined, /DataView, which has no element type/],
        [null, undefined, /got null; pass a TypedArray such as Float64Array/],
        ["1,2,3", undefined, /got string/],
        [42, undefined, /got number/],
        [{ data: [1, 2], shape: [2] }, undefined, /needs data to be a TypedArray, got an Array/],
        [{ data: f64, shape: 6 }, undefined, /needs shape to be an array/],
        [{ data: f64, shape: [4, 2] }, undefined, /shape \[4, 2\] of float64 needs 8 elements \(64 bytes\), but the array has 6 \(48 bytes\)/],
        [{ data: f64, shape: [-2, -3] }, undefined, /shape must be an array of non-negative integers/],
        [{ data: f64, shape: [2, 3.5] }, undefined, /non-negative integers/],
        [f64, { dtype: "float32" }, /dtype "float32" is held by Float32Array, but the array is a Float64Array/],
        [new Uint16Array(2), { dtype: "float16" }, /dtype "float16" .*no TypedArray can hold it/],
        [f64, { dtype: "nope" }, /unknown dtype "nope"/],
        [f64, { metadata: { dtype: "int8" } }, /may not set "dtype"/],
        [f64, { metadata: { shape: [6] } }, /may not set "shape"/],
        [f64, { metadata: { n: 1n } }, /must be JSON-serializable/],
        [f64, { metadata: [1] }, /must be a plain object/],
        [f64, { prefix: "topic" }, /options.prefix must be an array/],
        [f64, { prefix: [42] }, /prefix frames must be Buffers or strings, got number/],
      ];
      for (const [input, options, message] of bad) {
        await assert.rejects(
          sendArray(a, input as TypedArray, options),
          (e: Error & { code?: string }) => {
            assert.equal(e.code, "EINVAL", String(message));
            assert.match(e.message, message);
            return true;
          },
        );
        assert.throws(() => encodeArray(input as TypedArray, options), { code: "EINVAL" });
      }
      b.receiveTimeout = 0;
      await sleep(5);
      await assert.rejects(b.receive(), { code: "EAGAIN" }, "nothing was sent");
    });
  });
});
