/**
 * The crypto CURVE needs, and nothing more: NaCl's crypto_box (X25519 +
 * XSalsa20-Poly1305) with the beforenm/afternm split, crypto_secretbox, X25519 base
 * point multiplication and random bytes. Everything else in zmq-ts goes through
 * this module, so the package underneath can be swapped by rewriting this file.
 *
 * Underneath: libsodium-wrappers, libsodium compiled to WebAssembly (no native
 * addon, so it installs wherever npm does). Its WASM instance takes a while (~0.2 s) to
 * set up, so it is loaded on demand: loadCrypto() before the first CURVE handshake
 * (sockets do this when CURVE is configured); every function here is synchronous
 * after that and throws if called before. crypto_box_beforenm is libsodium's own (X25519 then
 * HSalsa20), and crypto_box_afternm is crypto_secretbox under that key, exactly as
 * NaCl defines it.
 *
 * Layout: every sealed box here is libsodium's "easy" layout, MAC (16 bytes)
 * followed by the ciphertext, which is also how CurveZMQ puts boxes on the wire
 * (NaCl's 16 leading zero bytes stripped).
 *
 * libsodium-wrappers copies each input into the WASM heap and returns each output as
 * a fresh Uint8Array of its own; results are handed back as Buffers over that same
 * memory (no further copy). It reports a failed MAC check or a low-order public key
 * by throwing, which is turned into null / false here; sizes are checked before the
 * call, so a wrong size is a RangeError of ours and never reaches libsodium.
 */
import { randomBytes as nodeRandomBytes, createPrivateKey, createPublicKey } from "node:crypto";

type SodiumModule = typeof import("libsodium-wrappers");
// The ESM build exports the library as `default`; the CommonJS build is the library itself.
type Sodium = SodiumModule extends { default: infer D } ? D : SodiumModule;
let sodium: Sodium = null as unknown as Sodium;
let loading: Promise<void> | null = null;

/** Loads libsodium once; resolves when the functions below may be called. */
export function loadCrypto(): Promise<void> {
  loading ??= import("libsodium-wrappers").then(async (mod) => {
    const lib = ((mod as { default?: unknown }).default ?? mod) as Sodium;
    await lib.ready;
    sodium = lib;
  });
  return loading;
}

/** True once loadCrypto() has finished. */
export function cryptoLoaded(): boolean {
  return sodium !== null;
}

export const KEY_BYTES = 32;
export const NONCE_BYTES = 24;
export const MAC_BYTES = 16;

function check(what: string, value: Uint8Array, size: number): void {
  if (value.length !== size) throw new RangeError(`${what} must be ${size} bytes (got ${value.length})`);
}

/** A Buffer over a Uint8Array's memory, without copying it. */
function asBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/** Cryptographically strong random bytes. */
export function randomBytes(size: number): Buffer {
  return nodeRandomBytes(size);
}

/** X25519 public key of a secret key (crypto_scalarmult_base). */
export function scalarmultBase(secretKey: Uint8Array): Buffer {
  check("secret key", secretKey, KEY_BYTES);
  // Node's own X25519, so that deriving a public key needs no libsodium.
  const der = Buffer.concat([X25519_PKCS8_PREFIX, secretKey]);
  const pub = createPublicKey(createPrivateKey({ key: der, format: "der", type: "pkcs8" }));
  return Buffer.from(pub.export({ format: "jwk" }).x!, "base64url");
}

/** PKCS#8 DER header of a raw X25519 private key (RFC 8410). */
const X25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");

/** A fresh X25519 key pair (crypto_box_keypair). */
export function boxKeyPair(): { publicKey: Buffer; secretKey: Buffer } {
  const secretKey = randomBytes(KEY_BYTES);
  return { publicKey: scalarmultBase(secretKey), secretKey };
}

/**
 * crypto_box_beforenm: the 32-byte key shared by (pk, sk), or null when the peer's
 * public key is a low-order point (the X25519 result would be all zeros).
 */
export function boxBeforenm(publicKey: Uint8Array, secretKey: Uint8Array): Buffer | null {
  check("public key", publicKey, KEY_BYTES);
  check("secret key", secretKey, KEY_BYTES);
  try {
    return asBuffer(sodium.crypto_box_beforenm(publicKey, secretKey));
  } catch {
    return null; // libsodium refuses an all-zero X25519 result
  }
}

/** crypto_box_easy_afternm: MAC || ciphertext of `message` under a beforenm key. */
export function boxAfternm(message: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer {
  return secretbox(message, nonce, key);
}

/** crypto_box_open_easy_afternm: the plaintext, or null if the box does not verify. */
export function boxOpenAfternm(box: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer | null {
  return secretboxOpen(box, nonce, key);
}

/**
 * In-place crypto_box_afternm for the MESSAGE hot path: encrypts `data` where it
 * lies and writes the 16-byte MAC into `mac` (which must not overlap `data`).
 * (libsodium-wrappers has no in-place call: crypto_secretbox_detached returns the
 * ciphertext and MAC, which are copied back over `data` and into `mac`.)
 */
export function boxAfternmInPlace(data: Uint8Array, mac: Uint8Array, nonce: Uint8Array, key: Uint8Array): void {
  check("nonce", nonce, NONCE_BYTES);
  check("key", key, KEY_BYTES);
  check("mac", mac, MAC_BYTES);
  const sealed = sodium.crypto_secretbox_detached(data, nonce, key);
  data.set(sealed.cipher);
  mac.set(sealed.mac);
}

/** Detached crypto_box_open_afternm into `out` (same length as `ciphertext`); false if the MAC does not verify. */
export function boxOpenAfternmDetached(out: Uint8Array, ciphertext: Uint8Array, mac: Uint8Array, nonce: Uint8Array, key: Uint8Array): boolean {
  check("nonce", nonce, NONCE_BYTES);
  check("key", key, KEY_BYTES);
  check("mac", mac, MAC_BYTES);
  if (out.length !== ciphertext.length) throw new RangeError("output and ciphertext lengths differ");
  let plain: Uint8Array;
  try {
    plain = sodium.crypto_secretbox_open_detached(ciphertext, mac, nonce, key);
  } catch {
    return false;
  }
  out.set(plain);
  return true;
}

/** crypto_box_easy: MAC || ciphertext from sk to pk, or null for a low-order public key. */
export function box(message: Uint8Array, nonce: Uint8Array, publicKey: Uint8Array, secretKey: Uint8Array): Buffer | null {
  check("nonce", nonce, NONCE_BYTES);
  check("public key", publicKey, KEY_BYTES);
  check("secret key", secretKey, KEY_BYTES);
  try {
    return asBuffer(sodium.crypto_box_easy(message, nonce, publicKey, secretKey));
  } catch {
    return null;
  }
}

/** crypto_box_open_easy: the plaintext, or null if the box does not verify (or the key is low-order). */
export function boxOpen(sealed: Uint8Array, nonce: Uint8Array, publicKey: Uint8Array, secretKey: Uint8Array): Buffer | null {
  check("nonce", nonce, NONCE_BYTES);
  check("public key", publicKey, KEY_BYTES);
  check("secret key", secretKey, KEY_BYTES);
  if (sealed.length < MAC_BYTES) return null;
  try {
    return asBuffer(sodium.crypto_box_open_easy(sealed, nonce, publicKey, secretKey));
  } catch {
    return null;
  }
}

/** crypto_secretbox_easy: MAC || ciphertext. */
export function secretbox(message: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer {
  check("nonce", nonce, NONCE_BYTES);
  check("key", key, KEY_BYTES);
  return asBuffer(sodium.crypto_secretbox_easy(message, nonce, key));
}

/** crypto_secretbox_open_easy: the plaintext, or null if the box does not verify. */
export function secretboxOpen(sealed: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer | null {
  check("nonce", nonce, NONCE_BYTES);
  check("key", key, KEY_BYTES);
  if (sealed.length < MAC_BYTES) return null;
  try {
    return asBuffer(sodium.crypto_secretbox_open_easy(sealed, nonce, key));
  } catch {
    return null;
  }
}
