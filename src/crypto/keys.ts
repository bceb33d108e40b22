import { generateKeyPairSync } from "node:crypto";
import { zmqError } from "../errors.js";
import { z85Decode, z85Encode } from "./z85.js";
import { KEY_BYTES, scalarmultBase } from "./box.js";

/** A new CURVE (X25519) key pair, each key as 40 Z85 characters, as zeromq.js returns it. */
export function curveKeyPair(): { publicKey: string; secretKey: string } {
  const { publicKey, privateKey } = generateKeyPairSync("x25519");
  const pub = Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url");
  const sec = Buffer.from(privateKey.export({ format: "jwk" }).d!, "base64url");
  return { publicKey: z85Encode(pub), secretKey: z85Encode(sec) };
}

/**
 * A CURVE key as libzmq accepts it: 32 raw bytes, 40 Z85 characters, or 40 Z85
 * characters followed by a NUL (as a string or as bytes). Returns the 32 raw bytes
 * (a copy); throws zmqError("EINVAL") for anything else.
 */
export function parseKey(value: string | Uint8Array, what = "CURVE key"): Buffer {
  if (typeof value === "string") {
    const text = value.length === 41 && value.charCodeAt(40) === 0 ? value.slice(0, 40) : value;
    if (text.length !== 40) throw zmqError("EINVAL", `${what} must be 40 Z85 characters or 32 bytes (got ${value.length} characters)`);
    try {
      return z85Decode(text);
    } catch {
      throw zmqError("EINVAL", `${what} is not a valid Z85 encoded key`);
    }
  }
  if (!(value instanceof Uint8Array)) throw zmqError("EINVAL", `${what} must be a string or a Buffer`);
  if (value.length === KEY_BYTES) return Buffer.from(value);
  if (value.length === 40 || (value.length === 41 && value[40] === 0)) {
    return parseKey(Buffer.from(value.subarray(0, 40)).toString("latin1"), what);
  }
  throw zmqError("EINVAL", `${what} must be 32 bytes or 40 Z85 characters (got ${value.length} bytes)`);
}

/**
 * The CURVE public key of a secret key (libzmq's zmq_curve_public): Z85 in, Z85 out;
 * bytes (32 raw or 40 Z85) in, 32 raw bytes out.
 */
export function publicKeyFromSecret(secret: string): string;
export function publicKeyFromSecret(secret: Uint8Array): Buffer;
export function publicKeyFromSecret(secret: string | Uint8Array): string | Buffer {
  const pub = scalarmultBase(parseKey(secret, "secret key"));
  return typeof secret === "string" ? z85Encode(pub) : pub;
}
