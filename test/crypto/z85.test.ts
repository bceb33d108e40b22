import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { z85Decode, z85Encode } from "../../src/crypto/z85.js";
import { isZmqError } from "../../src/errors.js";

const HELLO = Buffer.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]);

test("RFC 32 test vector: 86 4F D2 6F B5 59 F7 5B <-> HelloWorld", () => {
  assert.equal(z85Encode(HELLO), "HelloWorld");
  assert.deepEqual(z85Decode("HelloWorld"), HELLO);
});

test("RFC 32 / zmq_curve_keypair example keys decode to 32 bytes and back", () => {
  // The key pair printed in libzmq's curve documentation (zmq_curve.7).
  for (const key of ["Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID", "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs", "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7", "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"]) {
    const raw = z85Decode(key);
    assert.equal(raw.length, 32);
    assert.equal(z85Encode(raw), key);
  }
});

test("edge values: all zeros and all ones", () => {
  assert.equal(z85Encode(Buffer.alloc(4)), "00000");
  assert.equal(z85Encode(Buffer.alloc(4, 0xff)), "%nSc0");
  assert.deepEqual(z85Decode("%nSc0"), Buffer.alloc(4, 0xff));
  assert.equal(z85Encode(Buffer.alloc(0)), "");
  assert.deepEqual(z85Decode(""), Buffer.alloc(0));
});

test("round trips random data of every multiple-of-4 length up to 128", () => {
  for (let n = 0; n <= 128; n += 4) {
    const data = randomBytes(n);
    const text = z85Encode(data);
    assert.equal(text.length, (n / 4) * 5);
    assert.deepEqual(z85Decode(text), data);
  }
});

test("encode rejects a length that is not a multiple of 4 (EINVAL)", () => {
  for (const n of [1, 2, 3, 5, 31, 33]) {
    assert.throws(() => z85Encode(Buffer.alloc(n)), (e: unknown) => isZmqError(e, "EINVAL"));
  }
});

test("decode rejects bad lengths, bad characters and groups above 2^32-1 (EINVAL)", () => {
  for (const bad of ["Hell", "HelloWorld!", "Hello World", "Hello\u00e9orld", "Hello\"orld", "Hello'orld", "%nSc1", "#####"]) {
    assert.throws(() => z85Decode(bad), (e: unknown) => isZmqError(e, "EINVAL"), bad);
  }
});
