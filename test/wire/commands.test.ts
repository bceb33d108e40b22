import { test } from "node:test";
import assert from "node:assert/strict";
import {
  encodeCancel,
  encodeCommandBody,
  encodeCommandFrame,
  encodeError,
  encodeMetadata,
  encodePing,
  encodePong,
  encodeSubscribe,
  getProperty,
  parseCommand,
  parseErrorReason,
  parseMetadata,
  parsePing,
} from "../../src/wire/commands.js";
import { FrameDecoder } from "../../src/wire/frame-decoder.js";
import { assertWireError, feedings, hex } from "./helpers.js";

const ascii = (s: string) => Buffer.from(s, "latin1").toString("hex");

test("golden bytes: READY with Socket-Type=DEALER", () => {
  const frame = encodeCommandFrame("READY", encodeMetadata([["Socket-Type", Buffer.from("DEALER")]]));
  assert.deepEqual(frame, hex(`04 1c 05 ${ascii("READY")} 0b ${ascii("Socket-Type")} 00000006 ${ascii("DEALER")}`));
});

test("golden bytes: READY with Socket-Type=ROUTER and an empty Identity", () => {
  const meta = encodeMetadata(
    new Map<string, Uint8Array>([
      ["Socket-Type", Buffer.from("ROUTER")],
      ["Identity", new Uint8Array(0)],
    ]),
  );
  assert.deepEqual(meta, hex(`0b ${ascii("Socket-Type")} 00000006 ${ascii("ROUTER")} 08 ${ascii("Identity")} 00000000`));
  assert.deepEqual(encodeCommandBody("READY", meta), Buffer.concat([hex(`05 ${ascii("READY")}`), meta]));
});

test("golden bytes: ERROR, PING, PONG, SUBSCRIBE, CANCEL", () => {
  assert.deepEqual(encodeError("Invalid mechanism"), hex(`04 18 05 ${ascii("ERROR")} 11 ${ascii("Invalid mechanism")}`));
  assert.deepEqual(encodeError(""), hex(`04 07 05 ${ascii("ERROR")} 00`));
  assert.deepEqual(encodePing(100), hex(`04 07 04 ${ascii("PING")} 0064`));
  assert.deepEqual(encodePing(0xffff, Buffer.from("ctx")), hex(`04 0a 04 ${ascii("PING")} ffff ${ascii("ctx")}`));
  assert.deepEqual(encodePong(Buffer.from("ctx")), hex(`04 08 04 ${ascii("PONG")} ${ascii("ctx")}`));
  assert.deepEqual(encodePong(new Uint8Array(0)), hex(`04 05 04 ${ascii("PONG")}`));
  assert.deepEqual(encodeSubscribe(Buffer.from("news")), hex(`04 0e 09 ${ascii("SUBSCRIBE")} ${ascii("news")}`));
  assert.deepEqual(encodeSubscribe(new Uint8Array(0)), hex(`04 0a 09 ${ascii("SUBSCRIBE")}`));
  assert.deepEqual(encodeCancel(Buffer.from("news")), hex(`04 0b 06 ${ascii("CANCEL")} ${ascii("news")}`));
});

test("a command over 255 bytes uses the long header", () => {
  const topic = Buffer.alloc(300, 0x61);
  const f = encodeSubscribe(topic);
  assert.deepEqual(f.subarray(0, 9), hex("06 0000000000000136")); // 1 + 9 + 300 = 310
  assert.deepEqual(f.subarray(9), Buffer.concat([hex(`09 ${ascii("SUBSCRIBE")}`), topic]));
});

test("parseCommand splits name and data (a view)", () => {
  const body = hex(`05 ${ascii("READY")} 0b ${ascii("Socket-Type")} 00000003 ${ascii("SUB")}`);
  const c = parseCommand(body);
  assert.equal(c.name, "READY");
  assert.equal(c.data.buffer, body.buffer);
  assert.equal(c.data.byteOffset, body.byteOffset + 6);
  assert.deepEqual(parseCommand(hex(`04 ${ascii("PING")}`)), { name: "PING", data: Buffer.alloc(0) });
  assert.equal(parseCommand(encodeCommandBody("X".repeat(255))).name, "X".repeat(255));
});

test("parseCommand: missing, zero or overlong name length is ERR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED", () => {
  for (const h of ["", "00", "00 41", "05 52454144", "ff 41"]) {
    assertWireError(() => parseCommand(hex(h)), "ERR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED");
  }
});

test("encoders refuse invalid names with RangeError", () => {
  assert.throws(() => encodeCommandBody(""), RangeError);
  assert.throws(() => encodeCommandFrame("X".repeat(256)), RangeError);
  assert.throws(() => encodeCommandFrame("BAD NAME"), RangeError);
  assert.throws(() => encodeMetadata([["", Buffer.alloc(0)]]), RangeError);
  assert.throws(() => encodeMetadata([["Bad Name", Buffer.alloc(0)]]), RangeError);
  assert.throws(() => encodeMetadata([["é", Buffer.alloc(0)]]), RangeError);
  assert.throws(() => encodeMetadata([["x".repeat(256), Buffer.alloc(0)]]), RangeError);
  assert.deepEqual(encodeMetadata([["X-a_b.c+9", Buffer.alloc(0)]]), hex(`09 ${ascii("X-a_b.c+9")} 00000000`));
});

test("metadata round-trips; values are views; order and original case kept", () => {
  const props: [string, Uint8Array][] = [
    ["Socket-Type", Buffer.from("PUB")],
    ["Identity", new Uint8Array(0)],
    ["X-Big", Buffer.alloc(70000, 5)],
    ["x-" + "n".repeat(253), Buffer.from([0, 1, 2])],
  ];
  const data = encodeMetadata(props);
  const parsed = parseMetadata(data);
  assert.deepEqual([...parsed.keys()], props.map((p) => p[0]));
  for (const [k, v] of props) assert.deepEqual(parsed.get(k), Buffer.from(v));
  for (const v of parsed.values()) assert.equal(v.buffer, data.buffer);
  assert.deepEqual(parseMetadata(Buffer.alloc(0)), new Map());
});

test("getProperty is case-insensitive", () => {
  const parsed = parseMetadata(encodeMetadata([["socket-TYPE", Buffer.from("REQ")], ["Identity", Buffer.from("me")]]));
  assert.deepEqual(getProperty(parsed, "Socket-Type"), Buffer.from("REQ"));
  assert.deepEqual(getProperty(parsed, "socket-type"), Buffer.from("REQ"));
  assert.deepEqual(getProperty(parsed, "IDENTITY"), Buffer.from("me"));
  assert.equal(getProperty(parsed, "Resource"), undefined);
});

test("parseMetadata rejects malformed properties with ERR_ZMTP_INVALID_METADATA", () => {
  const ok = `0b ${ascii("Socket-Type")} 00000003 ${ascii("REQ")}`;
  for (const bad of [
    "00", // empty name
    `${ok} 00 00000000`, // empty name after a good property
    "05 4142", // truncated name
    `0b ${ascii("Socket-Type")}`, // no value length
    `0b ${ascii("Socket-Type")} 0000`, // truncated value length
    `0b ${ascii("Socket-Type")} 00000004 ${ascii("REQ")}`, // value length > remaining
    `0b ${ascii("Socket-Type")} ffffffff ${ascii("REQ")}`,
    `${ok} 01`, // trailing garbage: a name length with no name
  ]) {
    assertWireError(() => parseMetadata(hex(bad)), "ERR_ZMTP_INVALID_METADATA", undefined);
  }
});

test("ERROR reason round-trips, is cut at 255 bytes, and malformed data is ERR_ZMTP_MALFORMED_COMMAND_ERROR", () => {
  for (const reason of ["", "Invalid mechanism", "x".repeat(255)]) {
    const c = parseCommand(encodeError(reason).subarray(2 + (reason.length + 7 > 255 ? 7 : 0)));
    assert.equal(c.name, "ERROR");
    assert.equal(parseErrorReason(c.data), reason);
  }
  const long = encodeError("y".repeat(400));
  assert.equal(long.length, 9 + 1 + 5 + 1 + 255);
  assert.equal(parseErrorReason(parseCommand(long.subarray(9)).data), "y".repeat(255));
  assertWireError(() => parseErrorReason(Buffer.alloc(0)), "ERR_ZMTP_MALFORMED_COMMAND_ERROR");
  assertWireError(() => parseErrorReason(hex("05 41424344")), "ERR_ZMTP_MALFORMED_COMMAND_ERROR");
});

test("PING: ttl and context; context cut at 16 bytes; shorter than 2 bytes is malformed", () => {
  assert.deepEqual(parsePing(hex("0064")), { ttl: 100, context: Buffer.alloc(0) });
  assert.deepEqual(parsePing(hex(`ffff ${ascii("abc")}`)), { ttl: 65535, context: Buffer.from("abc") });
  const data = Buffer.concat([hex("0001"), Buffer.from("0123456789abcdefXYZ")]);
  const p = parsePing(data);
  assert.equal(p.context.toString(), "0123456789abcdef");
  assert.equal(p.context.buffer, data.buffer);
  for (const h of ["", "00"]) assertWireError(() => parsePing(hex(h)), "ERR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED");
  for (const ttl of [-1, 65536, 1.5, NaN]) assert.throws(() => encodePing(ttl), RangeError);
  assert.throws(() => encodePing(1, Buffer.alloc(17)), RangeError);
  assert.throws(() => encodePong(Buffer.alloc(17)), RangeError);
  const round = parseCommand(encodePing(300, Buffer.alloc(16, 3)).subarray(2));
  assert.equal(round.name, "PING");
  assert.deepEqual(parsePing(round.data), { ttl: 300, context: Buffer.alloc(16, 3) });
});

test("a handshake-like stream of command frames decodes the same however it is split", () => {
  const wire = Buffer.concat([
    encodeCommandFrame("READY", encodeMetadata([["Socket-Type", Buffer.from("SUB")], ["X-Pad", Buffer.alloc(400, 1)]])),
    encodeSubscribe(Buffer.from("topic")),
    encodePing(50, Buffer.from("c")),
    encodePong(Buffer.from("c")),
    encodeCancel(Buffer.from("topic")),
    encodeError("bye"),
  ]);
  let reference: string | undefined;
  for (const f of feedings(wire, 11)) {
    const seen: string[] = [];
    const dec = new FrameDecoder({
      onFrame: () => assert.fail("no data frames expected"),
      onCommand(body) {
        const c = parseCommand(body);
        switch (c.name) {
          case "READY": {
            const m = parseMetadata(c.data);
            seen.push(`READY ${getProperty(m, "socket-type")} ${getProperty(m, "x-pad")?.length}`);
            break;
          }
          case "PING": {
            const p = parsePing(c.data);
            seen.push(`PING ${p.ttl} ${p.context}`);
            break;
          }
          case "ERROR":
            seen.push(`ERROR ${parseErrorReason(c.data)}`);
            break;
          default:
            seen.push(`${c.name} ${c.data}`);
        }
      },
    });
    for (const c of f.chunks) dec.push(c);
    const text = seen.join("|");
    assert.equal(text, "READY SUB 400|SUBSCRIBE topic|PING 50 c|PONG c|CANCEL topic|ERROR bye", f.name);
    reference ??= text;
    assert.equal(text, reference);
  }
});
