/**
 * A cluster over tcp with CURVE: the controller's sockets are CURVE servers (its public
 * key in the connection file, its secret key nowhere on disk), engines and clients
 * connect with key pairs of their own, and every engine's peer endpoint is a CURVE server
 * whose public key travels in the peer table. Tasks and collectives work; a client
 * without the server key gets nowhere; a NULL peer is refused by an engine's mesh.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Dealer } from "../../src/index.js";
import { Client, Controller, LocalCluster, type ConnectionInfo } from "../../src/cluster/index.js";

const FIXTURES = "./test/cluster/fixtures/tasks.ts";
const Z85_KEY = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

test("CURVE over tcp: tasks and an allreduce between engines; no key, no entry", { timeout: 60_000 }, async () => {
  const cluster = await LocalCluster.start({
    engines: 2, mode: "inline", transport: "tcp", curve: true, log: false,
    heartbeat: { period: 100, maxMissed: 4 }, engine: { log: false, heart: "inline", moduleRoot: process.cwd() },
  });
  try {
    const info = cluster.connectionInfo;
    assert.match(info.curve?.server_key ?? "", Z85_KEY, "the connection file carries the server's public key");
    assert.ok(!JSON.stringify(info).includes("secret"), "no secret key in the connection file");

    const client = await cluster.client({ log: false });
    await client.waitForEngines(2, { timeout: 10_000 });
    for (const e of client.engines) assert.match(String((e as { curve_key?: string }).curve_key ?? ""), Z85_KEY, `engine ${e.id} advertises its CURVE key`);
    const sums = await client.view("all").apply<{ rank: number; size: number; sum: Float64Array }>(`${FIXTURES}#allreduceSum`, 2).get(20_000);
    assert.deepEqual(sums.map((s) => [...s.sum]), [[4, 40], [4, 40]], "the allreduce crossed the CURVE mesh");

    // A client that does not know the server key: the handshake never completes.
    const stripped: ConnectionInfo = { ...info };
    delete stripped.curve;
    await assert.rejects(Client.connect(stripped, { timeout: 1500, log: false }), (e: Error & { code?: string }) => e.code === "ETIMEDOUT", "a NULL client is not let in");

    // A NULL peer at an engine's mesh endpoint is refused at the handshake.
    const intruder = new Dealer({ linger: 0 });
    try {
      const refused = new Promise<unknown>((resolve) => {
        intruder.events.on("handshake:error:protocol", resolve as never);
        intruder.events.on("disconnect", resolve as never);
      });
      intruder.connect(client.engines[0]!.peer_endpoint);
      await within(refused, 5000, "the engine's CURVE mesh endpoint refusing a NULL peer");
    } finally {
      intruder.close();
    }
  } finally {
    await cluster.stop();
  }
});

test("CURVE needs tcp or ipc", async () => {
  await assert.rejects(Controller.start({ transport: "inproc", curve: true, log: false }), (e: Error & { code?: string }) => e.code === "EINVAL");
});
