import { test } from "node:test";
import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey, diffieHellman, randomBytes as nodeRandom } from "node:crypto";
import {
  box,
  boxAfternm,
  boxAfternmInPlace,
  boxBeforenm,
  boxKeyPair,
  boxOpen,
  boxOpenAfternm,
  boxOpenAfternmDetached,
  randomBytes,
  scalarmultBase,
  secretbox,
  secretboxOpen,
} from "../../src/crypto/box.js";
import { hsalsa20 } from "../../src/crypto/hsalsa20.js";
import { loadCrypto } from "../../src/crypto/box.js";

// libsodium loads on demand (sockets do it when CURVE is configured); these tests use it directly.
await loadCrypto();

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");

// The vectors of "Cryptography in NaCl" (Bernstein), also RFC 7748 section 6.1 for X25519.
const ALICE_SK = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
const ALICE_PK = hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
const BOB_SK = hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
const BOB_PK = hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
const SHARED = hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
const FIRSTKEY = hex("1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389");
const NONCE = hex("69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37");
const MESSAGE = hex(`be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffce5ecbaaf33bd751a1ac728d45e6c61296c
  dc3c01233561f41db66cce314adb310e3be8250c46f06dceea3a7fa1348057e2f6556ad6b1318a024a838f21af1fde048977eb48f59ffd49
  24ca1c60902e52f0a089bc76897040e082f937763848645e0705`);
const BOXED = hex(`f3ffc7703f9400e52a7dfb4b3d3305d98e993b9f48681273c29650ba32fc76ce48332ea7164d96a4476fb8c531a1186ac0df
  c17c98dce87b4da7f011ec48c97271d2c20f9b928fe2270d6fb863d51738b48eeee314a7cc8ab932164548e526ae90224368517acfeabd6b
  b3732bc0e9da99832b61ca01b6de56244a9e88d5f9b37973f622a43d14a6599b1f654cb45a74e355a5`);

test("X25519 base point multiplication: RFC 7748 key pairs", () => {
  assert.deepEqual(scalarmultBase(ALICE_SK), ALICE_PK);
  assert.deepEqual(scalarmultBase(BOB_SK), BOB_PK);
});

test("HSalsa20: NaCl core1 vector (shared secret -> firstkey)", () => {
  assert.deepEqual(hsalsa20(SHARED, new Uint8Array(16)), FIRSTKEY);
});

test("crypto_box_beforenm: NaCl firstkey, symmetric", () => {
  assert.deepEqual(boxBeforenm(BOB_PK, ALICE_SK), FIRSTKEY);
  assert.deepEqual(boxBeforenm(ALICE_PK, BOB_SK), FIRSTKEY);
});

test("crypto_box: NaCl box vector (131-byte message), and its open", () => {
  assert.deepEqual(box(MESSAGE, NONCE, BOB_PK, ALICE_SK), BOXED);
  assert.deepEqual(boxOpen(BOXED, NONCE, ALICE_PK, BOB_SK), MESSAGE);
});

test("crypto_box_afternm and crypto_secretbox under firstkey give the same NaCl vector", () => {
  assert.deepEqual(boxAfternm(MESSAGE, NONCE, FIRSTKEY), BOXED);
  assert.deepEqual(secretbox(MESSAGE, NONCE, FIRSTKEY), BOXED);
  assert.deepEqual(boxOpenAfternm(BOXED, NONCE, FIRSTKEY), MESSAGE);
  assert.deepEqual(secretboxOpen(BOXED, NONCE, FIRSTKEY), MESSAGE);
});

test("in-place detached seal and detached open match the easy layout", () => {
  const data = Buffer.from(MESSAGE);
  const mac = Buffer.alloc(16);
  boxAfternmInPlace(data, mac, NONCE, FIRSTKEY);
  assert.deepEqual(Buffer.concat([mac, data]), BOXED);
  const out = Buffer.alloc(data.length);
  assert.equal(boxOpenAfternmDetached(out, data, mac, NONCE, FIRSTKEY), true);
  assert.deepEqual(out, MESSAGE);
  mac[3] ^= 0x40;
  assert.equal(boxOpenAfternmDetached(out, data, mac, NONCE, FIRSTKEY), false);
});

test("X25519 agrees with node:crypto's diffieHellman on random key pairs", () => {
  for (let i = 0; i < 5; i++) {
    const a = boxKeyPair();
    const b = boxKeyPair();
    const der = (sk: Buffer) =>
      createPrivateKey({ key: { kty: "OKP", crv: "X25519", d: sk.toString("base64url"), x: scalarmultBase(sk).toString("base64url") }, format: "jwk" });
    const pub = (pk: Buffer) => createPublicKey({ key: { kty: "OKP", crv: "X25519", x: pk.toString("base64url") }, format: "jwk" });
    const shared = diffieHellman({ privateKey: der(a.secretKey), publicKey: pub(b.publicKey) });
    assert.deepEqual(boxBeforenm(b.publicKey, a.secretKey), hsalsa20(shared, new Uint8Array(16)));
    assert.deepEqual(boxBeforenm(a.publicKey, b.secretKey), boxBeforenm(b.publicKey, a.secretKey));
  }
});

test("round trips of 0, 1, 16, 1 KiB and 64 KiB through box, afternm and secretbox", () => {
  const a = boxKeyPair();
  const b = boxKeyPair();
  const k = boxBeforenm(b.publicKey, a.secretKey)!;
  for (const n of [0, 1, 16, 1024, 65536]) {
    const m = nodeRandom(n);
    const nonce = randomBytes(24);
    const sealed = box(m, nonce, b.publicKey, a.secretKey)!;
    assert.equal(sealed.length, n + 16);
    assert.deepEqual(boxOpen(sealed, nonce, a.publicKey, b.secretKey), m);
    assert.deepEqual(boxOpenAfternm(sealed, nonce, k), m);
    assert.deepEqual(boxAfternm(m, nonce, k), sealed);
    const sk = randomBytes(32);
    assert.deepEqual(secretboxOpen(secretbox(m, nonce, sk), nonce, sk), m);
  }
});

test("tampering with the MAC, the ciphertext, the nonce or the key is detected", () => {
  const k = randomBytes(32);
  const nonce = randomBytes(24);
  const sealed = secretbox(Buffer.from("attack at dawn"), nonce, k);
  for (let i = 0; i < sealed.length; i++) {
    const bad = Buffer.from(sealed);
    bad[i] ^= 1;
    assert.equal(secretboxOpen(bad, nonce, k), null, `byte ${i}`);
  }
  const badNonce = Buffer.from(nonce);
  badNonce[23] ^= 1;
  assert.equal(secretboxOpen(sealed, badNonce, k), null);
  assert.equal(secretboxOpen(sealed, nonce, randomBytes(32)), null);
  assert.equal(secretboxOpen(sealed.subarray(0, 15), nonce, k), null);
  const a = boxKeyPair();
  const b = boxKeyPair();
  const c = boxKeyPair();
  const boxed = box(Buffer.from("hi"), nonce, b.publicKey, a.secretKey)!;
  assert.equal(boxOpen(boxed, nonce, a.publicKey, c.secretKey), null);
});

test("a low-order public key (all zeros) gives null, not a key", () => {
  const a = boxKeyPair();
  assert.equal(boxBeforenm(Buffer.alloc(32), a.secretKey), null);
  assert.equal(box(Buffer.from("x"), randomBytes(24), Buffer.alloc(32), a.secretKey), null);
});

test("wrong sizes are programming errors (RangeError)", () => {
  assert.throws(() => secretbox(Buffer.from("x"), randomBytes(23), randomBytes(32)), RangeError);
  assert.throws(() => secretbox(Buffer.from("x"), randomBytes(24), randomBytes(31)), RangeError);
  assert.throws(() => scalarmultBase(randomBytes(31)), RangeError);
  assert.throws(() => hsalsa20(randomBytes(32), randomBytes(15)), RangeError);
});
