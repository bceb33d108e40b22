/**
 * ZMTP 3.x greeting (RFC 23 / RFC 37):
 *
 *   offset  size  field
 *   0       1     signature start, 0xFF
 *   1       8     padding (we send zeros; never interpreted on receive)
 *   9       1     signature end, 0x7F (a ZMTP 1.0 peer has the low bit clear here)
 *   10      1     major version (3)
 *   11      1     minor version (1)
 *   12      20    mechanism name, ASCII, NUL padded
 *   32      1     as-server (0/1)
 *   33      31    filler (zeros)
 */
import { WireError } from "./errors.js";

export const GREETING_SIZE = 64;
const MECHANISM_OFFSET = 12;
const MECHANISM_SIZE = 20;
const AS_SERVER_OFFSET = 32;

export interface Greeting {
  major: number;
  minor: number;
  mechanism: string;
  asServer: boolean;
}

export function encodeGreeting(mechanism: string, asServer: boolean, minor = 1): Buffer {
  if (mechanism.length === 0 || mechanism.length > MECHANISM_SIZE || !/^[\x21-\x7e]+$/.test(mechanism)) {
    throw new RangeError(`invalid ZMTP mechanism name ${JSON.stringify(mechanism)} (1..20 printable ASCII characters)`);
  }
  if (!Number.isInteger(minor) || minor < 0 || minor > 255) throw new RangeError(`invalid ZMTP minor version ${minor}`);
  const g = Buffer.alloc(GREETING_SIZE);
  g[0] = 0xff;
  g[9] = 0x7f;
  g[10] = 3;
  g[11] = minor;
  g.write(mechanism, MECHANISM_OFFSET, "latin1");
  g[AS_SERVER_OFFSET] = asServer ? 1 : 0;
  return g;
}

/**
 * Incremental check of the peer's greeting; `buf` is everything received so far (may be
 * shorter or longer than 64 bytes). Old or foreign peers are refused as early as the
 * deciding byte arrives: byte 0, byte 9 (ZMTP 1.0 vs later), byte 10 (major version).
 */
export function parseGreeting(
  buf: Uint8Array,
): { state: "need-more" } | { state: "done"; greeting: Greeting; consumed: number } {
  const n = buf.length;
  if (n >= 1 && buf[0] !== 0xff) throw notZmtp3();
  if (n >= 10 && (buf[9]! & 0x01) === 0) throw notZmtp3();
  if (n >= 11 && buf[10]! < 3) {
    throw new WireError("ERR_ZMTP_UNSUPPORTED_VERSION", `ZMTP 2.0 peers are not supported (peer major version ${buf[10]})`);
  }
  if (n < GREETING_SIZE) return { state: "need-more" };

  let end = MECHANISM_OFFSET + MECHANISM_SIZE;
  while (end > MECHANISM_OFFSET && buf[end - 1] === 0) end--;
  let mechanism = "";
  for (let i = MECHANISM_OFFSET; i < end; i++) mechanism += String.fromCharCode(buf[i]!);
  return {
    state: "done",
    greeting: { major: buf[10]!, minor: buf[11]!, mechanism, asServer: buf[AS_SERVER_OFFSET] !== 0 },
    consumed: GREETING_SIZE,
  };
}

function notZmtp3(): WireError {
  return new WireError("ERR_ZMTP_BAD_GREETING", "peer speaks ZMTP 1.0 or is not a ZMTP peer");
}
