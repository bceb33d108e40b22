/**
 * Which npm package should carry CURVE's crypto (X25519 + XSalsa20-Poly1305)?
 *
 *   node --import tsx bench/crypto-candidates.ts
 *
 * For each candidate that is installed (missing ones are skipped, so this file keeps
 * type-checking after the losers are uninstalled): the per-connection precomputation
 * (crypto_box_beforenm: X25519 + HSalsa20) and the per-message path CURVE uses after
 * the handshake (crypto_box_easy_afternm / crypto_box_open_easy_afternm, i.e.
 * XSalsa20-Poly1305 under the precomputed key) on 16 B, 1 KiB and 64 KiB messages.
 * Every candidate's output is checked byte for byte against the first one's.
 *
 * Install the candidates first (without saving them; libsodium-wrappers, the one
 * chosen since no native addon is allowed, is a dependency already):
 *   npm install --no-save tweetnacl @noble/ciphers @noble/curves sodium-native sodium-javascript
 *
 * Figures (node 20.20, x64, 2 cores; ops/s, seal = crypto_box_easy_afternm):
 *
 * | candidate | beforenm | seal 16 B | open 16 B | seal 1 KiB | open 1 KiB | seal 64 KiB | open 64 KiB | 64 KiB MB/s |
 * | --- | --- | --- | --- | --- | --- | --- | --- | --- |
 * | tweetnacl 1.0.3 | 1,287 | 420,911 | 297,398 | 52,695 | 52,649 | 668 | 684 | 43.8 |
 * | @noble/ciphers 2 + @noble/curves 2 | 650 | 166,934 | 99,125 | 47,013 | 43,093 | 947 | 932 | 62.0 |
 * | libsodium-wrappers 0.8 | 9,476 | 1,085,770 | 852,017 | 161,844 | 181,732 | 1,998 | 2,309 | 131 |
 * | sodium-native 5 (prebuilt addon) | 25,798 | 1,053,092 | 831,358 | 289,718 | 302,965 | 7,893 | 7,791 | 517 |
 * | sodium-javascript 0.8 | 1,224 | 331,379 | 157,576 | 55,163 | 51,094 | 1,149 | 994 | 75.3 |
 */
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { hsalsa20 } from "../src/crypto/hsalsa20.js";

const require = createRequire(import.meta.url);

interface Candidate {
  name: string;
  /** X25519(sk, pk) then HSalsa20 with a zero nonce: the 32-byte box key. */
  beforenm(pk: Uint8Array, sk: Uint8Array): Uint8Array;
  /** MAC (16) || ciphertext, as libsodium's *_easy functions lay it out. */
  seal(msg: Uint8Array, nonce: Uint8Array, k: Uint8Array): Uint8Array;
  /** Plaintext, or null when the MAC does not verify. */
  open(box: Uint8Array, nonce: Uint8Array, k: Uint8Array): Uint8Array | null;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
async function load(name: string): Promise<any | null> {
  try {
    return await import(name);
  } catch {
    return null;
  }
}

/**
 * HSalsa20 for packages without beforenm: @noble/ciphers' when installed (as in the
 * published figures), else ours (src/crypto/hsalsa20.ts, what src/crypto/box.ts uses).
 */
async function nobleHsalsa(): Promise<(shared: Uint8Array) => Uint8Array> {
  const salsa = await load("@noble/ciphers/salsa.js");
  if (!salsa) return (shared) => hsalsa20(shared, new Uint8Array(16));
  const sigma = new Uint32Array(new Uint8Array(Buffer.from("expand 32-byte k", "latin1")).buffer);
  const zero = new Uint32Array(4);
  return (shared) => {
    const out = new Uint32Array(8);
    salsa.hsalsa(sigma, new Uint32Array(new Uint8Array(shared).buffer), zero, out);
    return new Uint8Array(out.buffer);
  };
}

async function candidates(): Promise<Candidate[]> {
  const list: Candidate[] = [];
  const hsalsa = await nobleHsalsa();

  const tweet = await load("tweetnacl");
  if (tweet) {
    const nacl = tweet.default ?? tweet;
    list.push({
      name: "tweetnacl 1.0.3",
      beforenm: (pk, sk) => nacl.box.before(pk, sk),
      seal: (m, n, k) => nacl.box.after(m, n, k),
      open: (b, n, k) => nacl.box.open.after(b, n, k) || null,
    });
  }

  const salsa = await load("@noble/ciphers/salsa.js");
  const ed = await load("@noble/curves/ed25519.js");
  if (salsa && ed) {
    list.push({
      name: "@noble/ciphers 2 + @noble/curves 2",
      beforenm: (pk, sk) => hsalsa(ed.x25519.getSharedSecret(sk, pk)),
      seal: (m, n, k) => salsa.xsalsa20poly1305(k, n).encrypt(m),
      open: (b, n, k) => {
        try {
          return salsa.xsalsa20poly1305(k, n).decrypt(b);
        } catch {
          return null;
        }
      },
    });
  }

  const lsw = await load("libsodium-wrappers");
  if (lsw) {
    const sodium = lsw.default ?? lsw;
    await sodium.ready;
    list.push({
      name: "libsodium-wrappers 0.8 (wasm)",
      beforenm: (pk, sk) => sodium.crypto_box_beforenm(pk, sk),
      seal: (m, n, k) => sodium.crypto_box_easy_afternm(m, n, k),
      open: (b, n, k) => {
        try {
          return sodium.crypto_box_open_easy_afternm(b, n, k);
        } catch {
          return null;
        }
      },
    });
  }

  let native: any = null;
  try {
    native = require("sodium-native");
  } catch {
    native = null;
  }
  if (native) {
    list.push({
      name: "sodium-native 5 (prebuilt addon)",
      beforenm: (pk, sk) => {
        const q = Buffer.alloc(32);
        native.crypto_scalarmult(q, sk, pk);
        return hsalsa(q);
      },
      seal: (m, n, k) => {
        const out = Buffer.allocUnsafe(m.length + 16);
        native.crypto_secretbox_easy(out, m, n, k);
        return out;
      },
      open: (b, n, k) => {
        const out = Buffer.allocUnsafe(b.length - 16);
        return native.crypto_secretbox_open_easy(out, b, n, k) ? out : null;
      },
    });
  }

  let sjs: any = null;
  try {
    sjs = require("sodium-javascript");
  } catch {
    sjs = null;
  }
  if (sjs) {
    list.push({
      name: "sodium-javascript 0.8",
      beforenm: (pk, sk) => {
        const q = new Uint8Array(32);
        sjs.crypto_scalarmult(q, sk, pk);
        return hsalsa(q);
      },
      seal: (m, n, k) => {
        const out = new Uint8Array(m.length + 16);
        sjs.crypto_secretbox_easy(out, m, n, k);
        return out;
      },
      open: (b, n, k) => {
        const out = new Uint8Array(b.length - 16);
        return sjs.crypto_secretbox_open_easy(out, b, n, k) ? out : null;
      },
    });
  }
  return list;
}

/** Runs fn for about `ms` milliseconds after a warm-up; returns operations per second. */
function opsPerSecond(fn: () => void, ms = 700): number {
  const warm = Date.now() + 100;
  while (Date.now() < warm) fn();
  let n = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(ms) * 1_000_000n;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 8; i++) fn();
    n += 8;
    now = process.hrtime.bigint();
  }
  return (n * 1e9) / Number(now - start);
}

const fmt = (x: number): string => (x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(1));

async function main(): Promise<void> {
  const list = await candidates();
  if (list.length === 0) {
    console.log("no candidate installed (see the header of this file)");
    return;
  }
  // X25519 key pairs from node:crypto.
  const { generateKeyPairSync } = await import("node:crypto");
  const pair = (): { pk: Uint8Array; sk: Uint8Array } => {
    const { publicKey, privateKey } = generateKeyPairSync("x25519");
    return {
      pk: Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url"),
      sk: Buffer.from(privateKey.export({ format: "jwk" }).d!, "base64url"),
    };
  };
  const a = pair();
  const b = pair();
  const nonce = randomBytes(24);
  const sizes = [16, 1024, 65536];
  const msgs = sizes.map((s) => randomBytes(s));

  // Cross-check: same key, same ciphertext, opens, and rejects a flipped bit.
  const refK = Buffer.from(list[0]!.beforenm(b.pk, a.sk));
  for (const c of list) {
    const k = Buffer.from(c.beforenm(b.pk, a.sk));
    if (!k.equals(refK)) throw new Error(`${c.name}: beforenm differs`);
    if (!Buffer.from(c.beforenm(a.pk, b.sk)).equals(refK)) throw new Error(`${c.name}: beforenm not symmetric`);
    for (const m of msgs) {
      const box = c.seal(m, nonce, k);
      const ref = list[0]!.seal(m, nonce, refK);
      if (!Buffer.from(box).equals(Buffer.from(ref))) throw new Error(`${c.name}: ciphertext differs`);
      const opened = c.open(box, nonce, k);
      if (!opened || !Buffer.from(opened).equals(m)) throw new Error(`${c.name}: open failed`);
      const bad = Uint8Array.from(box);
      bad[bad.length - 1] ^= 1;
      if (c.open(bad, nonce, k) !== null) throw new Error(`${c.name}: tampered box opened`);
    }
  }

  console.log(`node ${process.version}, ${process.arch}; ops/s (higher is better)\n`);
  const header = ["candidate", "beforenm", ...sizes.flatMap((s) => [`seal ${s} B`, `open ${s} B`]), "seal 64 KiB MB/s"];
  const rows: string[][] = [];
  for (const c of list) {
    const k = c.beforenm(b.pk, a.sk);
    const row = [c.name, fmt(opsPerSecond(() => c.beforenm(b.pk, a.sk), 400))];
    let sealBig = 0;
    for (const m of msgs) {
      const box = c.seal(m, nonce, k);
      const s = opsPerSecond(() => c.seal(m, nonce, k));
      const o = opsPerSecond(() => c.open(box, nonce, k));
      if (m.length === 65536) sealBig = (s * m.length) / 1e6;
      row.push(fmt(s), fmt(o));
    }
    row.push(fmt(sealBig));
    rows.push(row);
    console.error(`done: ${c.name}`);
  }
  console.log(`| ${header.join(" | ")} |`);
  console.log(`| ${header.map(() => "---").join(" | ")} |`);
  for (const r of rows) console.log(`| ${r.join(" | ")} |`);
}

await main();
