/**
 * The mesh, point to point: N meshes in this process with peer tables set by hand,
 * over inproc, ipc and tcp (loopback). Every wait is bounded; every mesh is closed.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Context, Dealer } from "../../src/index.js";
import { Mesh } from "../../src/cluster/mesh.js";
import { Session } from "../../src/cluster/session.js";
import { ClusterError } from "../../src/cluster/errors.js";
import { within } from "../helpers/util.js";

const KEY = "mesh-test-key";
const T = 5000;
type Transport = "inproc" | "ipc" | "tcp";

interface Made {
  meshes: Mesh[];
  context: Context;
  logs: string[][];
  close(): Promise<void>;
}

/** `n` meshes with ids 0..n-1 that all know each other. */
async function makeMeshes(n: number, transport: Transport, extra: { unknownPeerTimeout?: number } = {}): Promise<Made> {
  const dir = transport === "ipc" ? mkdtempSync(join(tmpdir(), "zmq-ts-mesh-")) : "";
  const context = new Context();
  const meshes: Mesh[] = [];
  const logs: string[][] = [];
  for (let i = 0; i < n; i++) {
    const uuid = randomUUID();
    const endpoint = transport === "tcp" ? "tcp://127.0.0.1:*" : transport === "ipc" ? `ipc://${join(dir, `peer-${uuid}.sock`)}` : `inproc://peer-${uuid}`;
    const log: string[] = [];
    logs.push(log);
    meshes.push(await Mesh.bind({ session: new Session({ key: KEY }), uuid, endpoint, context, logger: (m) => log.push(m), ...extra }));
  }
  const table = meshes.map((m, id) => ({ id, uuid: m.uuid, peer_endpoint: m.endpoint }));
  meshes.forEach((m, id) => {
    m.setSelf(id);
    m.setPeers(table);
  });
  return {
    meshes,
    context,
    logs,
    async close() {
      await Promise.all(meshes.map((m) => m.close()));
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function rejectsWith(p: Promise<unknown>, code: string, pattern?: RegExp): Promise<ClusterError> {
  const err = await within(p.then(() => assert.fail("expected a rejection"), (e: unknown) => e), T, `a ${code} rejection`);
  assert.ok(err instanceof ClusterError, `expected a ClusterError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  if (pattern) assert.match(err.message, pattern);
  return err;
}

/** Waits until `cond` holds (polling), bounded. */
async function until(cond: () => boolean, what: string, ms = T): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

for (const transport of ["inproc", "ipc", "tcp"] as const) {
  describe(`mesh point to point over ${transport}`, () => {
    test("send/recv values with typed arrays, in order per tag, tags apart", async () => {
      const made = await makeMeshes(3, transport);
      const [a, b, c] = made.meshes as [Mesh, Mesh, Mesh];
      try {
        assert.match(a.endpoint, transport === "tcp" ? /^tcp:\/\/127\.0\.0\.1:\d+$/ : new RegExp(`^${transport}://`));
        const big = Float64Array.from({ length: 50_000 }, (_, i) => i * 0.5);
        await within(a.send(1, { x: big, n: 3, s: "hi", b: 7n, list: [new Int32Array([1, -2])] }, { tag: "data" }), T, "send");
        await a.send(1, "second", { tag: "data" });
        await a.send(1, "other tag", { tag: "other" });
        await c.send(1, "from c");
        // Tags are separate queues: "other" first, although sent last.
        assert.equal(await b.recv(0, { tag: "other", timeout: T }), "other tag");
        const got = (await b.recv(0, { tag: "data", timeout: T })) as { x: Float64Array; n: number; s: string; b: bigint; list: Int32Array[] };
        assert.deepEqual(got.x, big);
        assert.equal(got.n, 3);
        assert.equal(got.s, "hi");
        assert.equal(got.b, 7n);
        assert.deepEqual(got.list[0], new Int32Array([1, -2]));
        assert.equal(await b.recv(0, { tag: "data", timeout: T }), "second");
        // Senders are separate too: c's untagged message is not a's.
        assert.equal(await b.recv(2, { timeout: T }), "from c");
        assert.equal(b.pending, 0);
      } finally {
        await made.close();
      }
    });

    test("a message sent before its recv waits in the mailbox; a recv before its message waits", async () => {
      const made = await makeMeshes(2, transport);
      const [a, b] = made.meshes as [Mesh, Mesh];
      try {
        await a.send(1, 1, { tag: "early" });
        await until(() => b.pending === 1, "the early message to be kept");
        const waiting = b.recv(0, { tag: "late", timeout: T });
        await a.send(1, 2, { tag: "late" });
        assert.equal(await waiting, 2);
        assert.equal(await b.recv(0, { tag: "early", timeout: T }), 1);
      } finally {
        await made.close();
      }
    });

    test("the receiver owns what it gets: the sender may reuse its array once send resolves", async () => {
      const made = await makeMeshes(2, transport);
      const [a, b] = made.meshes as [Mesh, Mesh];
      try {
        const arr = new Float64Array(100_000).fill(1);
        await a.send(1, arr);
        arr.fill(2);
        const got = (await b.recv(0, { timeout: T })) as Float64Array;
        assert.ok(got.every((v) => v === 1));
      } finally {
        await made.close();
      }
    });
  });
}

describe("mesh waits fail instead of hanging", () => {
  test("recv timeout is ETIMEDOUT, and a message arriving later is kept for the next recv", async () => {
    const made = await makeMeshes(2, "inproc");
    const [a, b] = made.meshes as [Mesh, Mesh];
    try {
      await rejectsWith(b.recv(0, { tag: "t", timeout: 30 }), "ETIMEDOUT", /recv from engine 0 \(tag "t"\)/);
      await a.send(1, "after", { tag: "t" });
      assert.equal(await b.recv(0, { tag: "t", timeout: T }), "after");
    } finally {
      await made.close();
    }
  });

  test("removePeer fails recvs waiting on it with EENGINEDIED naming the engine; later sends and recvs fail at once", async () => {
    const made = await makeMeshes(4, "tcp");
    const [a, , , d] = made.meshes as [Mesh, Mesh, Mesh, Mesh];
    try {
      await d.send(0, "before");
      await until(() => a.pending === 1, "the message from engine 3");
      const waiting = a.recv(3, { tag: "x" });
      const other = a.recv(2, { timeout: T }); // not on engine 3: unaffected
      a.removePeer(3, "heartbeat");
      const err = await rejectsWith(waiting, "EENGINEDIED", /^engine 3 left the cluster \(heartbeat\): recv from engine 3/);
      assert.equal(err.engineId, 3);
      await rejectsWith(a.send(3, "x"), "EENGINEDIED", /engine 3 left the cluster \(heartbeat\)/);
      await rejectsWith(a.recv(3, { tag: "y" }), "EENGINEDIED");
      assert.deepEqual(a.peers().map((p) => p.id), [1, 2]);
      await made.meshes[2]!.send(0, "still fine");
      assert.equal(await other, "still fine");
      // A message that arrived before the peer left is still delivered.
      assert.equal(await a.recv(3, { timeout: T }), "before");
    } finally {
      await made.close();
    }
  });

  test("a send to a peer that never answers is failed by removePeer, not left hanging", async () => {
    const made = await makeMeshes(1, "tcp");
    const [a] = made.meshes as [Mesh];
    try {
      // A peer whose endpoint nobody listens on: the message waits in the DEALER's pipe.
      a.addPeer({ id: 5, uuid: randomUUID(), peer_endpoint: "tcp://127.0.0.1:1" });
      const sending = a.send(5, new Float64Array(1000));
      const waiting = a.recv(5);
      setTimeout(() => a.removePeer(5, "heartbeat"), 30);
      await rejectsWith(sending, "EENGINEDIED", /engine 5 left the cluster/);
      await rejectsWith(waiting, "EENGINEDIED");
    } finally {
      await made.close();
    }
  });

  test("a send to an engine not yet in the table waits for it to join, then EINVAL", async () => {
    const made = await makeMeshes(2, "inproc", { unknownPeerTimeout: 200 });
    const [a, b] = made.meshes as [Mesh, Mesh];
    try {
      b.removePeer(0, "test"); // b forgets a ...
      a.removePeer(1, "test");
      // ... an engine 7 appears late: the send waits for its notification.
      const late = await Mesh.bind({ session: new Session({ key: KEY }), uuid: randomUUID(), endpoint: `inproc://peer-late-${randomUUID()}`, context: made.context, logger: () => {} });
      try {
        late.setSelf(7);
        const sending = a.send(7, "hello", { tag: "join" });
        setTimeout(() => a.addPeer({ id: 7, uuid: late.uuid, peer_endpoint: late.endpoint }), 20);
        await within(sending, T, "the send to a late peer");
        assert.equal(await late.recv(0, { tag: "join", timeout: T }), "hello");
      } finally {
        await late.close();
      }
      await rejectsWith(a.send(9, "nobody"), "EINVAL", /engine 9 is not in the peer table/);
    } finally {
      await made.close();
    }
  });

  test("close() fails pending waits with ECLOSED and later calls at once", async () => {
    const made = await makeMeshes(2, "ipc");
    const [a] = made.meshes as [Mesh, Mesh];
    const waiting = a.recv(1);
    await made.close();
    await rejectsWith(waiting, "ECLOSED");
    await rejectsWith(a.recv(1), "ECLOSED");
    await rejectsWith(a.send(1, 1), "ECLOSED");
  });

  test("send and recv to itself", async () => {
    const made = await makeMeshes(1, "inproc");
    const [a] = made.meshes as [Mesh];
    try {
      const arr = new Int16Array([1, 2, 3]);
      await a.send(0, arr, { tag: "me" });
      arr[0] = 9;
      assert.deepEqual(await a.recv(0, { tag: "me", timeout: T }), new Int16Array([1, 2, 3]));
    } finally {
      await made.close();
    }
  });
});

describe("mesh security: bad messages are dropped, counted and logged, never delivered", () => {
  for (const transport of ["inproc", "tcp"] as const) {
    test(`forged and malformed frames from a raw DEALER over ${transport}`, async () => {
      const made = await makeMeshes(2, transport);
      const [a, b] = made.meshes as [Mesh, Mesh];
      // The raw socket claims to be engine 1 (same routing id), to get past the sender check.
      const raw = new Dealer({ routingId: b.uuid, linger: 0, ...(transport === "inproc" ? { context: made.context } : {}) });
      try {
        raw.connect(a.endpoint);
        const forger = new Session({ key: "not-the-key" });
        const honest = new Session({ key: KEY });
        const content = { from: 1, tag: "t", value: "forged" };
        await raw.send(forger.build("peer_message", content).frames);
        // A correct signature over a body that is not a peer_message.
        await raw.send(honest.build("peer_message", { tag: 5 }).frames);
        // Not JSON.
        const ok = honest.build("peer_message", content).frames;
        ok[3] = Buffer.from("{not json");
        await raw.send(ok);
        // No delimiter at all.
        await raw.send([Buffer.from("garbage")]);
        // A signed message whose content names engine 1 but whose routing id is a stranger's.
        const stranger = new Dealer({ routingId: "stranger", linger: 0, ...(transport === "inproc" ? { context: made.context } : {}) });
        stranger.connect(a.endpoint);
        await stranger.send(honest.build("peer_message", content).frames);
        await until(() => a.dropped === 5, `5 drops (got ${a.dropped})`);
        stranger.close();
        await rejectsWith(a.recv(1, { tag: "t", timeout: 50 }), "ETIMEDOUT");
        assert.equal(a.pending, 0);
        assert.equal(made.logs[0]!.length, 5);
        assert.ok(made.logs[0]!.some((l) => /bad signature/.test(l)), made.logs[0]!.join("\n"));
        assert.ok(made.logs[0]!.some((l) => /claims to be engine 1/.test(l)), made.logs[0]!.join("\n"));
        // A well-signed message from the right routing id is delivered.
        await raw.send(honest.build("peer_message", { from: 1, tag: "t", value: "genuine" }).frames);
        assert.equal(await a.recv(1, { tag: "t", timeout: T }), "genuine");
      } finally {
        raw.close();
        await made.close();
      }
    });
  }
});
