import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeGreeting, GREETING_SIZE, parseGreeting, type Greeting } from "../../src/wire/greeting.js";
import { WireError } from "../../src/wire/errors.js";
import { assertWireError, feedings, hex } from "./helpers.js";

/**
 * Feeds the greeting bytes to parseGreeting the way an engine would (accumulating prefix,
 * re-checked after every chunk), for every feeding; returns the outcome and how many
 * bytes had arrived when it was decided. Asserts all feedings agree.
 */
function parseEveryWay(input: Uint8Array, seed = 1): { greeting?: Greeting; consumed?: number; error?: string; decidedAt: number } {
  let first: ReturnType<typeof parseOnce> | undefined;
  for (const f of feedings(input, seed)) {
    const got = parseOnce(f.chunks);
    if (first === undefined) first = got;
    // Byte-by-byte feeding decides at the earliest possible byte; bigger chunks decide at a chunk end.
    assert.deepStrictEqual({ ...got, decidedAt: 0 }, { ...first, decidedAt: 0 }, f.name);
    if (f.name === "byte by byte") first = { ...first, decidedAt: got.decidedAt };
  }
  return first!;
}

function parseOnce(chunks: Buffer[]): { greeting?: Greeting; consumed?: number; error?: string; decidedAt: number } {
  let acc = Buffer.alloc(0);
  for (const c of chunks) {
    acc = Buffer.concat([acc, c]);
    try {
      const r = parseGreeting(acc);
      if (r.state === "done") return { greeting: r.greeting, consumed: r.consumed, decidedAt: acc.length };
    } catch (e) {
      assert.ok(e instanceof WireError, String(e));
      return { error: e.reason, decidedAt: acc.length };
    }
  }
  return { decidedAt: -1 };
}

test("golden bytes: NULL client greeting", () => {
  const g = encodeGreeting("NULL", false);
  assert.equal(GREETING_SIZE, 64);
  assert.equal(g.length, 64);
  assert.deepEqual(g, hex(`ff ${"00".repeat(8)} 7f 03 01 4e554c4c ${"00".repeat(16)} 00 ${"00".repeat(31)}`));
});

test("golden bytes: PLAIN server, CURVE client, ZMTP 3.0", () => {
  assert.deepEqual(encodeGreeting("PLAIN", true), hex(`ff ${"00".repeat(8)} 7f 03 01 504c41494e ${"00".repeat(15)} 01 ${"00".repeat(31)}`));
  assert.deepEqual(encodeGreeting("CURVE", false, 0), hex(`ff ${"00".repeat(8)} 7f 03 00 4355525645 ${"00".repeat(15)} 00 ${"00".repeat(31)}`));
  const twenty = "ABCDEFGHIJKLMNOPQRST";
  assert.deepEqual(encodeGreeting(twenty, true).subarray(12, 33), Buffer.concat([Buffer.from(twenty), hex("01")]));
});

test("encodeGreeting refuses invalid mechanism names and minor versions", () => {
  for (const m of ["", "X".repeat(21), "NU LL", "NULL\0", "é"]) assert.throws(() => encodeGreeting(m, false), RangeError, JSON.stringify(m));
  for (const minor of [-1, 256, 1.5]) assert.throws(() => encodeGreeting("NULL", false, minor), RangeError);
});

test("a valid greeting is decided at exactly 64 bytes, whatever the split", () => {
  for (const [mech, asServer, minor] of [["NULL", false, 1], ["PLAIN", true, 1], ["CURVE", false, 0], ["ABCDEFGHIJKLMNOPQRST", true, 7]] as const) {
    const r = parseEveryWay(encodeGreeting(mech, asServer, minor));
    assert.deepStrictEqual(r, { greeting: { major: 3, minor, mechanism: mech, asServer }, consumed: 64, decidedAt: 64 });
  }
  for (let n = 0; n < 64; n++) assert.deepEqual(parseGreeting(encodeGreeting("NULL", true).subarray(0, n)), { state: "need-more" });
});

test("bytes after the greeting are not consumed", () => {
  const buf = Buffer.concat([encodeGreeting("NULL", false), hex("04 19 05 5245414459")]);
  const r = parseGreeting(buf);
  assert.equal(r.state, "done");
  assert.ok(r.state === "done" && r.consumed === 64);
});

test("padding bytes 1..8 are not interpreted; mechanism trailing NULs stripped; any non-zero as-server byte is true", () => {
  const g = encodeGreeting("NULL", false);
  hex("0123456789abcdef").copy(g, 1);
  g[32] = 0x80;
  const r = parseEveryWay(g);
  assert.deepStrictEqual(r.greeting, { major: 3, minor: 1, mechanism: "NULL", asServer: true });
  // Filler bytes are not interpreted either.
  g.fill(0xaa, 33);
  assert.equal(parseEveryWay(g).greeting?.mechanism, "NULL");
  // Only trailing NULs are stripped.
  const h = encodeGreeting("AB", false);
  h[15] = 0x43;
  assert.equal(parseEveryWay(h).greeting?.mechanism, "AB\0C");
});

test("a higher major version (4.x) is accepted: the peer downgrades", () => {
  const g = encodeGreeting("NULL", false);
  g[10] = 4;
  g[11] = 0;
  assert.deepStrictEqual(parseEveryWay(g).greeting, { major: 4, minor: 0, mechanism: "NULL", asServer: false });
});

test("not 0xFF in byte 0: refused on the first byte", () => {
  // ZMTP 1.0 short identity frame (length 1, flags 0), HTTP, TLS ClientHello.
  for (const start of ["01 00", "474554202f", "160301"]) {
    const input = Buffer.concat([hex(start), Buffer.alloc(70)]);
    const r = parseEveryWay(input);
    assert.deepStrictEqual(r, { error: "ERR_ZMTP_BAD_GREETING", decidedAt: 1 }, start);
  }
  assertWireError(() => parseGreeting(hex("00")), "ERR_ZMTP_BAD_GREETING", /peer speaks ZMTP 1\.0 or is not a ZMTP peer/);
});

test("byte 9 with its low bit clear (ZMTP 1.0 long length): refused at 10 bytes", () => {
  // ZMTP 1.0 frame with an 8-byte length: ff + 8 length bytes + flags byte (0x00 or 0x7e).
  for (const b9 of [0x00, 0x7e, 0xfe]) {
    const input = Buffer.concat([hex("ff 0000000000000101"), Buffer.from([b9]), Buffer.alloc(60)]);
    assert.deepStrictEqual(parseEveryWay(input), { error: "ERR_ZMTP_BAD_GREETING", decidedAt: 10 }, `byte 9 = ${b9}`);
    for (let n = 1; n < 10; n++) assert.deepEqual(parseGreeting(input.subarray(0, n)), { state: "need-more" });
  }
  // Any odd byte 9 is a ZMTP 2+ signature end; 0x7f is what peers send.
  const g = encodeGreeting("NULL", false);
  g[9] = 0x01;
  assert.equal(parseEveryWay(g).greeting?.mechanism, "NULL");
});

test("major version below 3 (ZMTP 2.0 and older revisions): refused at 11 bytes", () => {
  for (const major of [0, 1, 2]) {
    const g = encodeGreeting("NULL", false);
    g[10] = major;
    assert.deepStrictEqual(parseEveryWay(g), { error: "ERR_ZMTP_UNSUPPORTED_VERSION", decidedAt: 11 }, `major ${major}`);
    assertWireError(() => parseGreeting(g.subarray(0, 11)), "ERR_ZMTP_UNSUPPORTED_VERSION", /ZMTP 2\.0 peers are not supported/);
    assert.deepEqual(parseGreeting(g.subarray(0, 10)), { state: "need-more" });
  }
});
