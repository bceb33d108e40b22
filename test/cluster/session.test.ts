/**
 * Session: the Jupyter wire format with HMAC-SHA256. Messages round-trip; a bad or
 * missing signature, a tampered frame or a malformed body is refused with EPROTO and
 * counted, never parsed into a message.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Session, DELIMITER } from "../../src/cluster/session.js";
import { ClusterError } from "../../src/cluster/errors.js";

const key = "0123456789abcdef0123456789abcdef";
const isProto = (e: unknown) => e instanceof ClusterError && e.code === "EPROTO";

describe("Session", () => {
  test("build then deserialize round-trips identities, header, parent, metadata, content and buffers", () => {
    const a = new Session({ key, username: "alice" });
    const b = new Session({ key });
    const parent = a.build("apply_request", { fn: "./t.js#f" });
    const buf = Buffer.from([1, 2, 3]);
    const { frames, header } = a.build("apply_reply", { status: "ok" }, {
      identities: ["engine-1", Buffer.from("client")],
      parent: parent.header,
      metadata: { engine_id: 3 },
      buffers: [buf, new Uint8Array([9, 8])],
    });
    const msg = b.deserialize(frames);
    assert.deepEqual(msg.identities.map(String), ["engine-1", "client"]);
    assert.equal(msg.header.msg_id, header.msg_id);
    assert.equal(msg.header.msg_type, "apply_reply");
    assert.equal(msg.header.username, "alice");
    assert.equal(msg.header.session, a.session);
    assert.equal(msg.header.version, "5.3");
    assert.equal(msg.parent_header.msg_id, parent.header.msg_id);
    assert.deepEqual(msg.metadata, { engine_id: 3 });
    assert.deepEqual(msg.content, { status: "ok" });
    assert.equal(msg.buffers.length, 2);
    assert.equal(msg.buffers[0], buf, "buffers pass through as given");
    assert.deepEqual([...msg.buffers[1]!], [9, 8]);
    assert.equal(b.rejected, 0);
  });

  test("parent may be a whole message; header fields may be given", () => {
    const s = new Session({ key });
    const first = s.deserialize(s.build("a", {}).frames);
    const { header } = s.build("b", {}, { parent: first, header: { msg_id: "fixed" } });
    assert.equal(header.msg_id, "fixed");
    const again = s.deserialize(s.build("c", {}, { parent: first }).frames);
    assert.equal(again.parent_header.msg_id, first.header.msg_id);
  });

  test("a wrong key, a tampered frame, a missing or truncated signature are refused and counted", () => {
    const a = new Session({ key });
    const b = new Session({ key: "another key" });
    const { frames } = a.build("apply_request", { fn: "./t.js#f" });
    assert.throws(() => b.deserialize(frames), isProto);
    for (const at of [2, 3, 4, 5]) {
      const tampered = frames.slice();
      const f = Buffer.from(tampered[at]!);
      f[f.length - 2] ^= 1;
      tampered[at] = f;
      assert.throws(() => a.deserialize(tampered), (e: unknown) => isProto(e) && /signature|JSON/.test((e as Error).message), `frame ${at}`);
    }
    const unsigned = frames.slice();
    unsigned[1] = Buffer.alloc(0);
    assert.throws(() => a.deserialize(unsigned), isProto);
    const short = frames.slice();
    short[1] = short[1]!.subarray(0, 10);
    assert.throws(() => a.deserialize(short), isProto);
    assert.equal(a.rejected, 6);
    assert.equal(b.rejected, 1);
  });

  test("malformed messages: no delimiter, too few frames, non-JSON, wrong shapes", () => {
    const s = new Session({ key });
    const sign = (jsons: string[]) => {
      const bufs = jsons.map((j) => Buffer.from(j));
      return [DELIMITER, Buffer.from(s.sign(bufs)), ...bufs];
    };
    assert.throws(() => s.deserialize([Buffer.from("hello")]), isProto);
    assert.throws(() => s.deserialize([DELIMITER, Buffer.from("sig"), Buffer.from("{}")]), isProto);
    assert.throws(() => s.deserialize(sign(["not json", "{}", "{}", "{}"])), isProto);
    assert.throws(() => s.deserialize(sign(["{}", "{}", "{}", "{}"])), (e: unknown) => isProto(e) && /msg_id/.test((e as Error).message));
    assert.throws(() => s.deserialize(sign([JSON.stringify({ msg_id: "x", msg_type: "y" }), "[]", "{}", "{}"])), isProto);
    assert.throws(() => s.deserialize(sign([JSON.stringify({ msg_id: "x", msg_type: "y" }), "{}", "{}", "3"])), isProto);
    const ok = s.deserialize(sign([JSON.stringify({ msg_id: "x", msg_type: "y" }), "{}", "{}", "{}"]));
    assert.equal(ok.header.msg_type, "y");
    assert.equal(s.rejected, 6);
  });

  test("an empty key means unsigned (Jupyter's convention)", () => {
    const s = new Session({ key: "" });
    const { frames } = s.build("x", { a: 1 });
    assert.equal(frames[1]!.length, 0);
    assert.deepEqual(s.deserialize(frames).content, { a: 1 });
  });
});
