/**
 * HSalsa20 (Bernstein, "Extending the Salsa20 nonce", 2008): the 20-round Salsa20
 * core without the final feed-forward, returning words 0, 5, 10, 15, 6, 7, 8, 9.
 *
 * NaCl's crypto_box_beforenm is HSalsa20(key = X25519(sk, pk), input = 16 zero
 * bytes). src/crypto/box.ts no longer uses this (libsodium-wrappers has its own
 * crypto_box_beforenm, and its standard build does not export HSalsa20); it stays
 * as an independent reference: test/crypto/box.test.ts checks box.ts's beforenm
 * against node:crypto's X25519 followed by this, and bench/crypto-candidates.ts
 * uses it for candidates without a beforenm.
 */

/** "expand 32-byte k" as four little-endian words. */
const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574] as const;

function rd32(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

function wr32(b: Uint8Array, i: number, v: number): void {
  b[i] = v & 0xff;
  b[i + 1] = (v >>> 8) & 0xff;
  b[i + 2] = (v >>> 16) & 0xff;
  b[i + 3] = (v >>> 24) & 0xff;
}

const rotl = (v: number, c: number): number => (v << c) | (v >>> (32 - c));

/** HSalsa20(key: 32 bytes, input: 16 bytes) → 32 bytes. */
export function hsalsa20(key: Uint8Array, input: Uint8Array): Buffer {
  if (key.length !== 32 || input.length !== 16) throw new RangeError("hsalsa20 needs a 32-byte key and a 16-byte input");
  const x = new Uint32Array(16);
  x[0] = SIGMA[0];
  x[5] = SIGMA[1];
  x[10] = SIGMA[2];
  x[15] = SIGMA[3];
  for (let i = 0; i < 4; i++) {
    x[1 + i] = rd32(key, 4 * i);
    x[11 + i] = rd32(key, 16 + 4 * i);
    x[6 + i] = rd32(input, 4 * i);
  }
  // Salsa20 quarter-round on (a, b, c, d): b ^= (a+d)<<<7, c ^= (b+a)<<<9, d ^= (c+b)<<<13, a ^= (d+c)<<<18.
  const qr = (a: number, b: number, c: number, d: number): void => {
    x[b] ^= rotl((x[a]! + x[d]!) | 0, 7);
    x[c] ^= rotl((x[b]! + x[a]!) | 0, 9);
    x[d] ^= rotl((x[c]! + x[b]!) | 0, 13);
    x[a] ^= rotl((x[d]! + x[c]!) | 0, 18);
  };
  for (let round = 0; round < 20; round += 2) {
    // column round
    qr(0, 4, 8, 12);
    qr(5, 9, 13, 1);
    qr(10, 14, 2, 6);
    qr(15, 3, 7, 11);
    // row round
    qr(0, 1, 2, 3);
    qr(5, 6, 7, 4);
    qr(10, 11, 8, 9);
    qr(15, 12, 13, 14);
  }
  const out = Buffer.allocUnsafe(32);
  const pick = [0, 5, 10, 15, 6, 7, 8, 9];
  for (let i = 0; i < 8; i++) wr32(out, 4 * i, x[pick[i]!]!);
  return out;
}
