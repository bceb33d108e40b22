import { test } from "node:test";
import assert from "node:assert/strict";
import { curveKeyPair, parseKey, publicKeyFromSecret } from "../../src/crypto/keys.js";
import { z85Decode, z85Encode } from "../../src/crypto/z85.js";
import { isZmqError } from "../../src/errors.js";

// libzmq's zmq_curve.7 example: the server key pair.
const SERVER_PUBLIC = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
const SERVER_SECRET = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";
const CLIENT_PUBLIC = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
const CLIENT_SECRET = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";

test("publicKeyFromSecret: libzmq's documented key pairs (Z85 in, Z85 out)", () => {
  assert.equal(publicKeyFromSecret(SERVER_SECRET), SERVER_PUBLIC);
  assert.equal(publicKeyFromSecret(CLIENT_SECRET), CLIENT_PUBLIC);
});

test("publicKeyFromSecret: bytes in, 32 bytes out", () => {
  assert.deepEqual(publicKeyFromSecret(z85Decode(SERVER_SECRET)), z85Decode(SERVER_PUBLIC));
  assert.deepEqual(publicKeyFromSecret(Buffer.from(SERVER_SECRET, "latin1")), z85Decode(SERVER_PUBLIC));
});

test("publicKeyFromSecret agrees with curveKeyPair", () => {
  for (let i = 0; i < 5; i++) {
    const { publicKey, secretKey } = curveKeyPair();
    assert.equal(publicKey.length, 40);
    assert.equal(publicKeyFromSecret(secretKey), publicKey);
  }
});

test("parseKey accepts 32 bytes, 40 Z85 characters and 40 + NUL, as string or bytes", () => {
  const raw = z85Decode(SERVER_PUBLIC);
  assert.deepEqual(parseKey(SERVER_PUBLIC), raw);
  assert.deepEqual(parseKey(SERVER_PUBLIC + "\0"), raw);
  assert.deepEqual(parseKey(Buffer.from(SERVER_PUBLIC, "latin1")), raw);
  assert.deepEqual(parseKey(Buffer.from(SERVER_PUBLIC + "\0", "latin1")), raw);
  assert.deepEqual(parseKey(raw), raw);
  assert.deepEqual(parseKey(new Uint8Array(raw)), raw);
  const copy = parseKey(raw);
  copy[0] ^= 1;
  assert.notDeepEqual(copy, raw, "parseKey returns a copy");
  assert.equal(z85Encode(parseKey(SERVER_SECRET)), SERVER_SECRET);
});

test("parseKey rejects wrong lengths and invalid Z85 with EINVAL", () => {
  const bad: (string | Uint8Array)[] = [
    "",
    SERVER_PUBLIC.slice(0, 39),
    SERVER_PUBLIC + "0",
    SERVER_PUBLIC.slice(0, 39) + " ",
    SERVER_PUBLIC.slice(0, 39) + "~",
    "#####" + SERVER_PUBLIC.slice(5),
    Buffer.alloc(31),
    Buffer.alloc(33),
    Buffer.alloc(41, 0x30),
    Buffer.from(SERVER_PUBLIC.slice(0, 39) + "\"", "latin1"),
  ];
  for (const value of bad) {
    assert.throws(() => parseKey(value), (e: unknown) => isZmqError(e, "EINVAL"), String(value));
  }
  assert.throws(() => parseKey(42 as unknown as string), (e: unknown) => isZmqError(e, "EINVAL"));
  assert.throws(() => publicKeyFromSecret("tooshort"), (e: unknown) => isZmqError(e, "EINVAL"));
});
