import { generateKeyPairSync } from "node:crypto";
import { z85Encode } from "./z85.js";

/** A new CURVE (X25519) key pair, each key as 40 Z85 characters, as zeromq.js returns it. */
export function curveKeyPair(): { publicKey: string; secretKey: string } {
  const { publicKey, privateKey } = generateKeyPairSync("x25519");
  const pub = Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url");
  const sec = Buffer.from(privateKey.export({ format: "jwk" }).d!, "base64url");
  return { publicKey: z85Encode(pub), secretKey: z85Encode(sec) };
}
