// PGM packet codec and libzmq's framing, against bytes captured from pyzmq 24 / libzmq 4.3.4
// with OpenPGM (a PUB on epgm://10.231.0.2;239.192.1.1:5555, captured by a dgram socket
// joined to the group).
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodePacket, encodePacket, pgmChecksum, type PgmPacket } from "../../src/transport/pgm/packet.js";
import { TsduDecoder, TsduEncoder } from "../../src/transport/pgm/framing.js";
import type { Message } from "../../src/pipe/msg-queue.js";

const captured = {
  spm: "29d915b30000287cb7c6d1bc038a00000000000000000000ffffffff000100000ae70002",
  spmFin: "29d915b300019a5cb7c6d1bc038a0000000000080000000000000006000100000ae70002000400088e040000",
  odataHello: "29d915b30400b368b7c6d1bc038a000b00000000000000000000080068656c6c6f2030",
  odataMultipart: "29d915b30400f8afb7c6d1bc038a000f000000010000000000000601746f7069630500626f6479",
  odataA: "29d915b30400cc5bb7c6d1bc038a000500000005000000000000020061",
};
const gsi = Buffer.from("b7c6d1bc038a", "hex");

test("captured OpenPGM packets decode, and encode back to the same bytes (checksums included)", () => {
  for (const [name, hex] of Object.entries(captured)) {
    const p = decodePacket(Buffer.from(hex, "hex"));
    assert.equal(typeof p, "object", name);
    assert.equal(encodePacket(p as PgmPacket).toString("hex"), hex, name);
  }
  const spm = decodePacket(Buffer.from(captured.spm, "hex"));
  assert.deepEqual(spm, { type: "spm", sport: 10713, dport: 5555, gsi, sqn: 0, trail: 0, lead: 0xffffffff, nla: "10.231.0.2", fin: false });
  const fin = decodePacket(Buffer.from(captured.spmFin, "hex")) as PgmPacket & { type: "spm" };
  assert.equal(fin.fin, true);
  assert.equal(fin.lead, 6);
  const od = decodePacket(Buffer.from(captured.odataHello, "hex")) as PgmPacket & { type: "odata" };
  assert.equal(od.type, "odata");
  assert.equal(od.data.toString("hex"), "0000" + "0800" + Buffer.from("hello 0").toString("hex"));
});

test("a corrupted packet fails its checksum; ODATA without a checksum is refused", () => {
  const b = Buffer.from(captured.odataHello, "hex");
  b[b.length - 1] ^= 1;
  assert.equal(decodePacket(b), "checksum");
  const z = Buffer.from(captured.odataHello, "hex");
  z.writeUInt16BE(0, 6);
  assert.equal(decodePacket(z), "checksum");
  assert.equal(decodePacket(Buffer.alloc(8)), "short");
});

test("NAK (single and OPT_NAK_LIST), NCF, SPMR and RDATA round trip", () => {
  const base = { sport: 5555, dport: 10713, gsi };
  const packets: PgmPacket[] = [
    { type: "nak", ...base, sqns: [7], source: "10.231.0.2", group: "239.192.1.1" },
    { type: "nak", ...base, sqns: [7, 9, 12], source: "10.231.0.2", group: "239.192.1.1" },
    { type: "ncf", sport: 10713, dport: 5555, gsi, sqns: [7], source: "10.231.0.2", group: "239.192.1.1" },
    { type: "spmr", ...base },
    { type: "rdata", sport: 10713, dport: 5555, gsi, sqn: 7, trail: 2, data: Buffer.from("0000020061", "hex") },
  ];
  for (const p of packets) {
    const buf = encodePacket(p);
    const copy = Buffer.from(buf);
    copy.writeUInt16BE(0, 6);
    assert.equal(buf.readUInt16BE(6), pgmChecksum(copy));
    assert.deepEqual(decodePacket(buf), p);
  }
  // RFC 3208 layout of a NAK with a list: OPT_LENGTH then OPT_NAK_LIST|OPT_END, 4 + 4n bytes.
  const list = encodePacket(packets[1]!);
  assert.equal(list[5], 0x03); // OPT_PRESENT | OPT_NETWORK
  assert.equal(list.subarray(36).toString("hex"), "00040010" + "820c0000" + "00000009" + "0000000c");
});

function encodeAll(msgs: Message[], maxTsdu: number): Buffer[] {
  const enc = new TsduEncoder(maxTsdu);
  const queue = [...msgs];
  const out: Buffer[] = [];
  for (let t; (t = enc.encode(() => queue.shift())) !== null; ) out.push(t);
  return out;
}

test("framing: libzmq's offset header and ZMTP 1.0 frames, as captured", () => {
  assert.deepEqual(encodeAll([[Buffer.from("hello 0")] as Message], 1428).map((b) => b.toString("hex")), [
    "0000" + "0800" + Buffer.from("hello 0").toString("hex"),
  ]);
  assert.deepEqual(encodeAll([[Buffer.from("topic"), Buffer.from("body")] as Message], 1428).map((b) => b.toString("hex")), [
    "0000" + "0601" + Buffer.from("topic").toString("hex") + "0500" + Buffer.from("body").toString("hex"),
  ]);
  // 3000 bytes, as libzmq cut it: 1428 + 1428 + 160, offsets 0, 0xffff, 158 (just past the end).
  const big = encodeAll([[Buffer.alloc(3000, 0x78)] as Message], 1428);
  assert.deepEqual(big.map((b) => b.length), [1428, 1428, 160]);
  assert.deepEqual(big.map((b) => b.readUInt16BE(0)), [0, 0xffff, 158]);
  assert.equal(big[0]!.subarray(2, 12).toString("hex"), "ff0000000000000bb900");
});

test("framing round trip; a late joiner starts at the first message start; a loss resynchronises", () => {
  const msgs: Message[] = [];
  for (let i = 0; i < 200; i++) msgs.push([Buffer.from(`t${i % 3}`), Buffer.alloc(i * 37, i)] as Message);
  const tsdus = encodeAll(msgs, 300);
  const dec = new TsduDecoder(-1);
  const got: Message[] = [];
  for (const t of tsdus) dec.push(t, got);
  assert.deepEqual(got, msgs);

  // join in the middle: everything from the first message that starts in a TSDU we see
  const late = new TsduDecoder(-1);
  const got2: Message[] = [];
  for (const t of tsdus.slice(40)) late.push(t, got2);
  assert.ok(got2.length > 0 && got2.length < msgs.length);
  assert.deepEqual(got2, msgs.slice(msgs.length - got2.length));

  // lose one TSDU: reset, the stream resumes at a later message start, nothing corrupt
  const lossy = new TsduDecoder(-1);
  const got3: Message[] = [];
  tsdus.forEach((t, i) => {
    if (i === 60) return lossy.reset();
    lossy.push(t, got3);
  });
  for (const m of got3) assert.ok(msgs.some((x) => x[1]!.equals(m[1]!)));
  assert.ok(got3.length < msgs.length);
});
