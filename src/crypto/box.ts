/**
 * The crypto CURVE needs, and nothing more: NaCl's crypto_box (X25519 +
 * XSalsa20-Poly1305) with the beforenm/afternm split, crypto_secretbox, X25519 base
 * point multiplication and random bytes. Everything else in zmq-ts goes through
 * this module, so the package underneath can be swapped by rewriting this file.
 *
 * Underneath: sodium-native (libsodium, prebuilt addons shipped inside the npm
 * package), loaded lazily on the first call so that sockets without CURVE never
 * load it. It has no crypto_box_beforenm, so that one step is X25519 from
 * sodium-native followed by our HSalsa20 (./hsalsa20.ts); crypto_box_afternm is
 * then crypto_secretbox under that key, exactly as NaCl defines it.
 *
 * Layout: every sealed box here is libsodium's "easy" layout, MAC (16 bytes)
 * followed by the ciphertext, which is also how CurveZMQ puts boxes on the wire
 * (NaCl's 16 leading zero bytes stripped).
 */
import { createRequire } from "node:module";
import { randomBytes as nodeRandomBytes } from "node:crypto";
import { hsalsa20 } from "./hsalsa20.js";

export const KEY_BYTES = 32;
export const NONCE_BYTES = 24;
export const MAC_BYTES = 16;

/** The slice of sodium-native's API this module uses (it ships no type declarations). */
interface SodiumNative {
  crypto_scalarmult(q: Uint8Array, n: Uint8Array, p: Uint8Array): void;
  crypto_scalarmult_base(q: Uint8Array, n: Uint8Array): void;
  crypto_box_easy(c: Uint8Array, m: Uint8Array, n: Uint8Array, pk: Uint8Array, sk: Uint8Array): void;
  crypto_box_open_easy(m: Uint8Array, c: Uint8Array, n: Uint8Array, pk: Uint8Array, sk: Uint8Array): boolean;
  crypto_secretbox_easy(c: Uint8Array, m: Uint8Array, n: Uint8Array, k: Uint8Array): void;
  crypto_secretbox_open_easy(m: Uint8Array, c: Uint8Array, n: Uint8Array, k: Uint8Array): boolean;
  crypto_secretbox_detached(c: Uint8Array, mac: Uint8Array, m: Uint8Array, n: Uint8Array, k: Uint8Array): void;
  crypto_secretbox_open_detached(m: Uint8Array, c: Uint8Array, mac: Uint8Array, n: Uint8Array, k: Uint8Array): boolean;
}

let sodium: SodiumNative | null = null;

function lib(): SodiumNative {
  if (sodium) return sodium;
  try {
    sodium = createRequire(import.meta.url)("sodium-native") as SodiumNative;
  } catch (e) {
    throw new Error(`CURVE needs the sodium-native package, which could not be loaded on ${process.platform}-${process.arch}: ${(e as Error).message}`);
  }
  return sodium;
}

function check(what: string, value: Uint8Array, size: number): void {
  if (value.length !== size) throw new RangeError(`${what} must be ${size} bytes (got ${value.length})`);
}

/** Cryptographically strong random bytes. */
export function randomBytes(size: number): Buffer {
  return nodeRandomBytes(size);
}

/** X25519 public key of a secret key (crypto_scalarmult_base). */
export function scalarmultBase(secretKey: Uint8Array): Buffer {
  check("secret key", secretKey, KEY_BYTES);
  const out = Buffer.alloc(KEY_BYTES);
  lib().crypto_scalarmult_base(out, secretKey);
  return out;
}

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
  const shared = Buffer.alloc(KEY_BYTES);
  try {
    lib().crypto_scalarmult(shared, secretKey, publicKey);
  } catch {
    return null; // libsodium refuses an all-zero result
  }
  const k = hsalsa20(shared, ZERO16);
  shared.fill(0);
  return k;
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
 */
export function boxAfternmInPlace(data: Uint8Array, mac: Uint8Array, nonce: Uint8Array, key: Uint8Array): void {
  check("nonce", nonce, NONCE_BYTES);
  check("key", key, KEY_BYTES);
  check("mac", mac, MAC_BYTES);
  lib().crypto_secretbox_detached(data, mac, data, nonce, key);
}

/** Detached crypto_box_open_afternm into `out` (same length as `ciphertext`); false if the MAC does not verify. */
export function boxOpenAfternmDetached(out: Uint8Array, ciphertext: Uint8Array, mac: Uint8Array, nonce: Uint8Array, key: Uint8Array): boolean {
  check("nonce", nonce, NONCE_BYTES);
  check("key", key, KEY_BYTES);
  check("mac", mac, MAC_BYTES);
  if (out.length !== ciphertext.length) throw new RangeError("output and ciphertext lengths differ");
  return lib().crypto_secretbox_open_detached(out, ciphertext, mac, nonce, key);
}

/** crypto_box_easy: MAC || ciphertext from sk to pk, or null for a low-order public key. */
export function box(message: Uint8Array, nonce: Uint8Array, publicKey: Uint8Array, secretKey: Uint8Array): Buffer | null {
  check("nonce", nonce, NONCE_BYTES);
  check("public key", publicKey, KEY_BYTES);
  check("secret key", secretKey, KEY_BYTES);
  const out = Buffer.allocUnsafe(message.length + MAC_BYTES);
  try {
    lib().crypto_box_easy(out, message, nonce, publicKey, secretKey);
  } catch {
    return null;
  }
  return out;
}

/** crypto_box_open_easy: the plaintext, or null if the box does not verify (or the key is low-order). */
export function boxOpen(sealed: Uint8Array, nonce: Uint8Array, publicKey: Uint8Array, secretKey: Uint8Array): Buffer | null {
  check("nonce", nonce, NONCE_BYTES);
  check("public key", publicKey, KEY_BYTES);
  check("secret key", secretKey, KEY_BYTES);
  if (sealed.length < MAC_BYTES) return null;
  const out = Buffer.allocUnsafe(sealed.length - MAC_BYTES);
  try {
    return lib().crypto_box_open_easy(out, sealed, nonce, publicKey, secretKey) ? out : null;
  } catch {
    return null;
  }
}

/** crypto_secretbox_easy: MAC || ciphertext. */
export function secretbox(message: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer {
  check("nonce", nonce, NONCE_BYTES);
  check("key", key, KEY_BYTES);
  const out = Buffer.allocUnsafe(message.length + MAC_BYTES);
  lib().crypto_secretbox_easy(out, message, nonce, key);
  return out;
}

/** crypto_secretbox_open_easy: the plaintext, or null if the box does not verify. */
export function secretboxOpen(sealed: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer | null {
  check("nonce", nonce, NONCE_BYTES);
  check("key", key, KEY_BYTES);
  if (sealed.length < MAC_BYTES) return null;
  const out = Buffer.allocUnsafe(sealed.length - MAC_BYTES);
  return lib().crypto_secretbox_open_easy(out, sealed, nonce, key) ? out : null;
}

const ZERO16 = new Uint8Array(16);
