import { zmqError } from "../errors.js";

/** Z85 (ZeroMQ RFC 32): 4 bytes to 5 printable characters. */
const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

export function z85Encode(data: Uint8Array): string {
  if (data.length % 4 !== 0) throw zmqError("EINVAL", "Z85 input length must be a multiple of 4");
  let out = "";
  for (let i = 0; i < data.length; i += 4) {
    let value = ((data[i]! << 24) >>> 0) + (data[i + 1]! << 16) + (data[i + 2]! << 8) + data[i + 3]!;
    const chunk = new Array<string>(5);
    for (let j = 4; j >= 0; j--) {
      chunk[j] = ALPHABET[value % 85]!;
      value = Math.floor(value / 85);
    }
    out += chunk.join("");
  }
  return out;
}

export function z85Decode(text: string): Buffer {
  if (typeof text !== "string" || text.length % 5 !== 0) throw zmqError("EINVAL", "Z85 input length must be a multiple of 5");
  const out = Buffer.allocUnsafe((text.length / 5) * 4);
  for (let i = 0, o = 0; i < text.length; i += 5, o += 4) {
    let value = 0;
    for (let j = 0; j < 5; j++) {
      const code = text.charCodeAt(i + j);
      const digit = code < 128 ? DECODE[code]! : -1;
      if (digit < 0) throw zmqError("EINVAL", `invalid Z85 character at ${i + j}`);
      value = value * 85 + digit;
    }
    if (value > 0xffffffff) throw zmqError("EINVAL", "invalid Z85 group");
    out.writeUInt32BE(value, o);
  }
  return out;
}
