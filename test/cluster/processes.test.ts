/**
 * The cluster across processes: engines as child processes over ipc and over tcp, and
 * as worker threads over tcp. Collectives over the mesh between processes, the
 * load-balanced queue, captured output, a busy engine whose heart (its own thread)
 * keeps it alive, and shutdown by a client's request.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { ClusterError, LocalCluster, readConnectionFile } from "../../src/cluster/index.js";
import { within } from "../helpers/util.js";

const moduleRoot = join(process.cwd(), "test/cluster/fixtures");
const T = 30_000;

describe("engines as child processes over ipc", () => {
  test("4 engines: allreduce across processes, load-balanced map, named values, output, a busy engine stays alive", async () => {
    const cluster = await within(LocalCluster.start({
      engines: 4, mode: "process", transport: "ipc", heartbeat: { period: 100, maxMissed: 4 }, engine: { moduleRoot }, log: false,
    }), T, "cluster");
    try {
      const info = readConnectionFile(cluster.connectionFile);
      assert.equal(info.transport, "ipc");
      assert.ok(info.endpoints.mux_client.startsWith("ipc://"));
      const pids = cluster.engineIds.map((id) => cluster.engine(id)!.pid);
      assert.ok(pids.every((p) => typeof p === "number" && p !== process.pid));
      const client = await within(cluster.client(), T, "client");
      assert.deepEqual(client.ids, [0, 1, 2, 3]);
      assert.ok(client.engines.every((e) => e.peer_endpoint.startsWith("ipc://")));

      const reduced = await within(client.view().apply<{ rank: number; size: number; sum: Float64Array }>("./tasks.ts#allreduceSum", 1.5), T, "allreduce");
      assert.deepEqual(reduced.map((r) => r.rank), [0, 1, 2, 3]);
      for (const r of reduced) {
        assert.equal(r.size, 4);
        assert.deepEqual([...r.sum], [6, 60]);
      }

      const squares = await within(client.loadBalancedView().map<number>("./tasks.ts#square", Array.from({ length: 20 }, (_, i) => i), { chunkSize: 3 }), T, "lb map");
      assert.deepEqual(squares, Array.from({ length: 20 }, (_, i) => i * i));

      const data = Float32Array.from({ length: 1000 }, (_, i) => i);
      await within(client.view().scatter("v", data), T, "scatter");
      const back = await within(client.view().gather<Float32Array>("v"), T, "gather");
      assert.ok(back instanceof Float32Array);
      assert.deepEqual([...back], [...data]);

      const out = client.view(3).apply("./tasks.ts#chatty", "from a child");
      await within(out, T, "chatty");
      assert.equal(out.metadata[0]!.stdout, "out: from a child\nprinted 42\n");

      // A task that blocks its engine's thread for 1.5 s (the detection bound is 0.5 s):
      // the heart beats from its own thread, so the engine is not declared dead.
      const busy = client.view(1).apply<number>("./tasks.ts#busy", 1500);
      assert.ok((await within(busy, T, "busy")) > 0);
      assert.deepEqual(cluster.controller.engines.map((e) => e.id), [0, 1, 2, 3]);
      assert.deepEqual(client.ids, [0, 1, 2, 3]);
    } finally {
      await within(cluster.stop(), T, "stop");
    }
    assert.equal(existsSync(cluster.connectionFile), false, "the temp connection file is removed");
  });
});

describe("engines as child processes over tcp", () => {
  test("2 engines: apply, push/pull, then a client's shutdown stops the engines", async () => {
    const cluster = await within(LocalCluster.start({
      engines: 2, mode: "process", transport: "tcp", heartbeat: { period: 100, maxMissed: 5 }, engine: { moduleRoot }, log: false,
    }), T, "cluster");
    try {
      const client = await within(cluster.client(), T, "client");
      assert.ok(client.engines.every((e) => /^tcp:\/\/127\.0\.0\.1:\d+$/.test(e.peer_endpoint)));
      assert.deepEqual(await within(client.view().apply("./tasks.ts#add", 20, 22), T, "apply"), [42, 42]);
      const reduced = await within(client.view().apply<{ sum: Float64Array }>("./tasks.ts#allreduceSum", 2), T, "allreduce");
      assert.deepEqual([...reduced[1]!.sum], [4, 40]);
      await within(client.view().push({ big: new Float64Array(100_000).fill(0.5) }), T, "push");
      assert.deepEqual(await within(client.view().apply("./tasks.ts#sumNamed", "big"), T, "sum"), [50_000, 50_000]);

      const exits = cluster.engineIds.map((id) => cluster.engine(id)!.exited);
      assert.deepEqual((await within(client.shutdown(), T, "shutdown")).sort(), [0, 1]);
      await within(Promise.all(exits), T, "engines exit");
      const deadline = Date.now() + 5000;
      while (client.ids.length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(client.ids, [], "both unregistered");
      assert.throws(() => client.view().apply("./tasks.ts#add", 1, 1), (e: unknown) => e instanceof ClusterError && e.code === "EINVAL");
    } finally {
      await within(cluster.stop(), T, "stop");
    }
  });
});

describe("engines as worker threads over tcp", () => {
  test("2 engines: allreduce between threads and a load-balanced map", async () => {
    const cluster = await within(LocalCluster.start({
      engines: 2, mode: "thread", transport: "tcp", heartbeat: { period: 100, maxMissed: 5 }, engine: { moduleRoot }, log: false,
    }), T, "cluster");
    try {
      const client = await within(cluster.client(), T, "client");
      assert.equal(cluster.engine(0)!.mode, "thread");
      const reduced = await within(client.view().apply<{ rank: number; sum: Float64Array }>("./tasks.ts#allreduceSum", 5), T, "allreduce");
      assert.deepEqual(reduced.map((r) => [r.rank, ...r.sum]), [[0, 10, 100], [1, 10, 100]]);
      assert.deepEqual(await within(client.loadBalancedView().map("./tasks.ts#square", [1, 2, 3, 4, 5]), T, "map"), [1, 4, 9, 16, 25]);
      const id = await within(cluster.addEngine(), T, "addEngine");
      assert.equal(id, 2);
      await within(client.waitForEngines(3, { timeout: T }), T, "3 engines");
      assert.equal(await within(client.view(2).apply("./tasks.ts#add", 1, 2), T, "new engine"), 3);
    } finally {
      await within(cluster.stop(), T, "stop");
    }
  });
});
