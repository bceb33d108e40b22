/**
 * The whole cluster in one process over inproc: a controller, three inline engines and a
 * client. Direct views (apply, map, push/pull, scatter/gather, execute), the
 * load-balanced view (apply, map with chunks, ordered and unordered, every scheme),
 * captured output and iopub, metadata timings, the hub's task records, typed arrays.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  Client, ClusterError, Controller, Engine, LocalCluster, SCHEMES, type DataEvent, type StreamEvent, type TaskRecord,
} from "../../src/cluster/index.js";
import { within } from "../helpers/util.js";

const moduleRoot = join(process.cwd(), "test/cluster/fixtures");
const T = 10_000;
const code = (c: string) => (e: unknown) => e instanceof ClusterError && e.code === c;

describe("cluster over inproc (controller, 3 inline engines, client)", () => {
  let cluster: LocalCluster;
  let client: Client;

  before(async () => {
    cluster = await within(LocalCluster.start({
      engines: 3, transport: "inproc", heartbeat: { period: 100, maxMissed: 5 }, engine: { moduleRoot }, log: false,
    }), T, "the cluster");
    client = await within(cluster.client(), T, "the client");
  });

  after(async () => {
    await within(cluster.stop(), T, "stop");
  });

  test("the client knows the engines; the controller's table agrees", () => {
    assert.deepEqual(client.ids, [0, 1, 2]);
    assert.deepEqual(cluster.controller.engines.map((e) => e.id), [0, 1, 2]);
    assert.deepEqual(client.engines.map((e) => e.uuid), cluster.controller.engines.map((e) => e.uuid));
    assert.ok(client.engines.every((e) => e.peer_endpoint.startsWith("inproc://")));
  });

  test("DirectView.apply: one value per engine; a single-engine view gives the value itself", async () => {
    assert.deepEqual(await within(client.view().apply("./tasks.ts#add", 1, 2), T, "apply"), [3, 3, 3]);
    assert.equal(await within(client.view(2).apply<number>("./tasks.ts#add", 5, 6), T, "apply on 2"), 11);
    assert.equal(await within(client.view(0).apply<string>("./tasks.ts"), T, "default export"), "default");
    assert.deepEqual(await within(client.view([0, 2]).apply("./tasks.ts#contextLater"), T, "taskContext after await"), [0, 2]);
  });

  test("DirectView.apply shares one job and the group with every target (this = the task context)", async () => {
    const who = await within(client.view([2, 0]).apply<{ engineId: number; job: string; group: number[] }>("./tasks.ts#whoami"), T, "whoami");
    assert.deepEqual(who.map((w) => w.engineId), [2, 0]);
    assert.equal(who[0]!.job, who[1]!.job);
    assert.deepEqual(who[0]!.group, [0, 2]);
    const lb = await within(client.loadBalancedView().apply<{ engineId: number; job: string; group: number[] }>("./tasks.ts#whoami"), T, "lb whoami");
    assert.deepEqual(lb.group, [lb.engineId], "a load-balanced task is a group of one");
  });

  test("DirectView.map splits items in contiguous blocks and keeps their order", async () => {
    const items = Array.from({ length: 10 }, (_, i) => i);
    const ar = client.view().map<number>("./tasks.ts#square", items);
    assert.equal(ar.msgIds.length, 3);
    assert.deepEqual(await within(ar, T, "map"), items.map((x) => x * x));
    assert.deepEqual(ar.metadata.map((m) => m.engineId), [0, 1, 2]);
    assert.deepEqual(await within(client.view().map("./tasks.ts#square", new Float64Array([1, 2, 3, 4])), T, "map typed"), [1, 4, 9, 16]);
    assert.deepEqual(await within(client.view().map("./tasks.ts#square", []), T, "map empty"), []);
  });

  test("push / pull of named values; a missing name is an ETASK NameError", async () => {
    const view = client.view();
    await within(view.push({ a: 1, b: "two", arr: new Float64Array([1, 2, 3]) }), T, "push");
    assert.deepEqual(await within(view.pull("a"), T, "pull a"), [1, 1, 1]);
    const [ab] = await within(client.view([1]).pull(["a", "b"]), T, "pull a, b");
    assert.deepEqual(ab, [1, "two"]);
    const arr = await within(client.view(0).pull<Float64Array>("arr"), T, "pull arr");
    assert.ok(arr instanceof Float64Array);
    assert.deepEqual([...arr], [1, 2, 3]);
    assert.equal(await within(client.view(0).apply("./tasks.ts#sumNamed", "arr"), T, "task reads it"), 6);
    await assert.rejects(within(view.pull("nope"), T, "pull missing"), (e: unknown) =>
      code("ETASK")(e) && (e as ClusterError).ename === "NameError" && /nope/.test((e as Error).message));
  });

  test("scatter / gather along the first axis (typed arrays by rows, lists)", async () => {
    const view = client.view();
    const data = Float64Array.from({ length: 10 }, (_, i) => i + 1);
    await within(view.scatter("x", data), T, "scatter");
    const sums = await within(view.apply<number>("./tasks.ts#sumNamed", "x"), T, "sums");
    assert.deepEqual(sums, [1 + 2 + 3 + 4, 5 + 6 + 7, 8 + 9 + 10]);
    const back = await within(view.gather<Float64Array>("x"), T, "gather");
    assert.ok(back instanceof Float64Array);
    assert.deepEqual([...back], [...data]);

    const matrix = Int32Array.from({ length: 5 * 2 }, (_, i) => i);
    await within(view.scatter("m", matrix, { rowLength: 2 }), T, "scatter rows");
    const parts = await within(view.pull<Int32Array>("m"), T, "pull rows");
    assert.deepEqual(parts.map((p) => [...p]), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    assert.deepEqual([...await within(view.gather<Int32Array>("m"), T, "gather rows")], [...matrix]);
    assert.throws(() => view.scatter("bad", new Int32Array(5), { rowLength: 2 }), code("EINVAL"));

    await within(view.scatter("list", ["a", "b", "c", "d"]), T, "scatter list");
    assert.deepEqual(await within(view.pull("list"), T, "pull list"), [["a", "b"], ["c"], ["d"]]);
    assert.deepEqual(await within(view.gather("list"), T, "gather list"), ["a", "b", "c", "d"]);
  });

  test("execute runs a function for its effect", async () => {
    const ar = client.view([0, 1]).execute("./tasks.ts#setNamed", "executed", 42);
    assert.equal(await within(ar, T, "execute"), undefined);
    assert.equal(ar.metadata[0]!.status, "ok");
    assert.deepEqual(await within(client.view([0, 1]).pull("executed"), T, "pull"), [42, 42]);
  });

  test("LoadBalancedView.apply and map with chunks, ordered and unordered", async () => {
    const lb = client.loadBalancedView();
    assert.equal(await within(lb.apply("./tasks.ts#add", 2, 3), T, "lb apply"), 5);
    const items = Array.from({ length: 11 }, (_, i) => i);
    const ar = lb.map<number>("./tasks.ts#square", items, { chunkSize: 3 });
    assert.equal(ar.msgIds.length, 4);
    assert.deepEqual(await within(ar, T, "lb map"), items.map((x) => x * x));

    const source = lb.map({ source: "(x) => x" }, [1], { ordered: false });
    await assert.rejects(within(source, T, "source without allowSource"), (e: unknown) => code("EINVAL")(e) && /allowSource/.test((e as Error).message));
    // Unordered: the first item sleeps longest, so it completes last.
    const unordered = lb.map<number>("./tasks.ts#delayedSquare", [300, 1, 2, 3], { ordered: false });
    const got = await within(unordered, T, "unordered");
    assert.deepEqual([...got].sort((a, b) => a - b), [1, 4, 9, 90000]);
    assert.equal(got[3], 90000, "the slow first item comes last");
    const ordered = await within(lb.map<number>("./tasks.ts#delayedSquare", [100, 1, 2]), T, "ordered");
    assert.deepEqual(ordered, [10000, 1, 4]);
    const streamed: unknown[] = [];
    for await (const v of lb.map<number>("./tasks.ts#square", [1, 2, 3], { chunkSize: 2 })) streamed.push(v);
    assert.deepEqual(streamed, [1, 4, 9], "iteration yields items in order");
  });

  test("stdout / stderr captured per task into the metadata and streamed on iopub; data_pub", async () => {
    const streams: StreamEvent[] = [];
    const data: DataEvent[] = [];
    const onStream = (s: StreamEvent) => streams.push(s);
    const onData = (d: DataEvent) => data.push(d);
    client.on("stream", onStream);
    client.on("data", onData);
    try {
      const ar = client.view([0, 1]).apply("./tasks.ts#chatty", "hi");
      assert.deepEqual(await within(ar, T, "chatty"), ["hi", "hi"]);
      for (const m of ar.metadata) {
        assert.equal(m.stdout, "out: hi\nprinted 42\n");
        assert.equal(m.stderr, "err: hi\n");
      }
      const pub = client.view(2).apply("./tasks.ts#publishProgress", 3);
      assert.equal(await within(pub, T, "publish"), 3);
      const deadline = Date.now() + 5000;
      while ((streams.filter((s) => ar.msgIds.includes(s.msgId!)).length < 4 || data.length < 3) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      const mine = streams.filter((s) => s.msgId === ar.msgIds[0]);
      assert.equal(mine.filter((s) => s.name === "stdout").map((s) => s.text).join(""), "out: hi\nprinted 42\n");
      assert.equal(mine.filter((s) => s.name === "stderr").map((s) => s.text).join(""), "err: hi\n");
      assert.ok(mine.every((s) => s.engineId === 0));
      assert.deepEqual(data.map((d) => (d.data as { step: number }).step), [0, 1, 2]);
      assert.ok(data.every((d) => d.engineId === 2 && d.msgId === pub.msgIds[0]));
      const arr = (data[1]!.data as { data: Int32Array }).data;
      assert.ok(arr instanceof Int32Array);
      assert.deepEqual([...arr], [1]);
    } finally {
      client.off("stream", onStream);
      client.off("data", onData);
    }
  });

  test("metadata: engine, status and timings in order", async () => {
    const ar = client.view(1).apply("./tasks.ts#sleep", 20);
    assert.equal(await within(ar, T, "sleep"), 1);
    const m = ar.metadata[0]!;
    assert.equal(m.engineId, 1);
    assert.equal(m.engineUuid, client.engines[1]!.uuid);
    assert.equal(m.status, "ok");
    const [s, st, c, r] = [m.submitted, m.started!, m.completed!, m.received!].map(Date.parse);
    assert.ok(s! <= st! && st! <= c! && c! <= r!, JSON.stringify(m));
    assert.ok(c! - st! >= 15, "the task's own time is inside started..completed");
    assert.ok(ar.elapsed >= 15);
  });

  test("the hub records every request: state, engine, client, timings; errors too", async () => {
    const ok = client.view().apply("./tasks.ts#add", 1, 1);
    await within(ok, T, "ok");
    const bad = client.loadBalancedView().apply("./tasks.ts#fail", "recorded");
    await assert.rejects(within(bad, T, "bad"), (e: unknown) => code("ETASK")(e) && (e as ClusterError).ename === "RangeError" && (e as ClusterError).evalue === "recorded");
    const ids = [...ok.msgIds, ...bad.msgIds];
    // The copies reach the hub asynchronously: wait until it has the replies too.
    let records: Record<string, TaskRecord> = {};
    const deadline = Date.now() + 5000;
    do {
      ({ records } = await within(client.taskRecords(ids), T, "result_request"));
      if (ids.every((id) => records[id]?.state === "completed" || records[id]?.state === "failed")) break;
      await new Promise((r) => setTimeout(r, 20));
    } while (Date.now() < deadline);
    for (const [i, id] of ok.msgIds.entries()) {
      const r = records[id]!;
      assert.equal(r.state, "completed");
      assert.equal(r.queue, "direct");
      assert.equal(r.engine_id, i);
      assert.equal(r.fn, "./tasks.ts#add");
      assert.ok(r.client.startsWith("client-"));
      assert.ok(r.started && r.completed && r.received);
    }
    const f = records[bad.msgIds[0]!]!;
    assert.equal(f.state, "failed");
    assert.equal(f.queue, "task");
    assert.deepEqual(f.error, { ename: "RangeError", evalue: "recorded" });
    assert.equal(cluster.controller.tasks.get(bad.msgIds[0]!)?.state, "failed");
    const { unknown } = await within(client.taskRecords(["no-such-id"]), T, "unknown");
    assert.deepEqual(unknown, ["no-such-id"]);
    const q = await within(client.queueStatus(), T, "queue_request");
    assert.deepEqual(Object.keys(q.engines).sort(), ["0", "1", "2"]);
    assert.ok(q.engines[0]!.completed > 0);
  });

  test("typed arrays go out of band both ways and arrive as typed arrays", async () => {
    const big = Float64Array.from({ length: 1 << 17 }, (_, i) => i);
    const ar = client.view(0).apply<Float64Array>("./tasks.ts#double", big);
    const out = await within(ar, T, "double");
    assert.ok(out instanceof Float64Array);
    assert.equal(out.length, big.length);
    assert.equal(out[12345], 24690);
    const seen = await within(client.view(1).apply<{ type: string; length: number; sum: number }>("./tasks.ts#describeArray", new Int16Array([1, 2, 3])), T, "describe");
    assert.deepEqual(seen, { type: "Int16Array", length: 3, sum: 6 });
    const nested = await within(client.view(2).apply<{ a: BigInt64Array[] }>({ source: "(x) => x" }, { a: [new BigInt64Array([1n])] }).catch((e) => e), T, "refused source");
    assert.ok(code("EINVAL")(nested));
  });

  test("errors: task exceptions, unknown modules and exports, functions refused as values", async () => {
    await assert.rejects(within(client.view(0).apply("./tasks.ts#fail", "boom"), T, "fail"), (e: unknown) => {
      const ce = e as ClusterError;
      return ce.code === "ETASK" && ce.engineId === 0 && ce.ename === "RangeError" && ce.evalue === "boom"
        && ce.traceback!.some((l) => l.includes("tasks.ts")) && /engine 0/.test(ce.message);
    });
    await assert.rejects(within(client.view(0).apply("./missing.ts#f"), T, "missing module"), (e: unknown) => code("EINVAL")(e) && /cannot load module/.test((e as Error).message));
    await assert.rejects(within(client.view(0).apply("./tasks.ts#nothing"), T, "missing export"), (e: unknown) => code("EINVAL")(e) && /no function export "nothing"/.test((e as Error).message));
    await assert.rejects(within(client.view(0).apply("./tasks.ts#notAFunction"), T, "not a function"), code("EINVAL"));
    assert.throws(() => client.view(0).apply("./tasks.ts#add", () => 1), code("EINVAL"));
    assert.throws(() => client.view(7).apply("./tasks.ts#add"), code("EINVAL"));
    // The engines are still fine.
    assert.deepEqual(await within(client.view().apply("./tasks.ts#add", 0, 0), T, "still fine"), [0, 0, 0]);
  });

  test("an engine started with allowSource runs functions sent as source", async () => {
    const engine = await within(Engine.start(cluster.connectionInfo, { allowSource: true, moduleRoot, log: false }), T, "source engine");
    try {
      await within(client.waitForEngines(4, { timeout: T }), T, "4 engines");
      const view = client.view(engine.id);
      assert.equal(await within(view.apply((a: number, b: number) => a * b, 6, 7), T, "arrow"), 42);
      assert.equal(await within(view.apply(function (this: { engineId: number }) {
        return this.engineId;
      }), T, "this"), engine.id);
      assert.deepEqual(await within(view.map((x: number) => x + 1, [1, 2]), T, "map source"), [2, 3]);
      await assert.rejects(within(view.apply({ source: "not valid js (" }), T, "bad source"), code("EINVAL"));
    } finally {
      await within(engine.stop(), T, "engine stop");
    }
    const deadline = Date.now() + 5000;
    while (client.ids.length !== 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(client.ids, [0, 1, 2], "the stopped engine unregistered");
  });
});

describe("task schemes (inproc, 3 inline engines each)", () => {
  for (const scheme of Object.keys(SCHEMES) as Array<keyof typeof SCHEMES>) {
    test(`${scheme}: a map over 12 slow items completes, in order, using the engines`, async () => {
      const controller = await Controller.start({ transport: "inproc", taskScheme: scheme, heartbeat: { period: 100, maxMissed: 5 }, log: false });
      const engines: Engine[] = [];
      let client: Client | null = null;
      try {
        for (let i = 0; i < 3; i++) engines.push(await within(Engine.start(controller.connectionInfo, { moduleRoot, log: false }), T, "engine"));
        client = await within(Client.connect(controller.connectionInfo, { log: false }), T, "client");
        const items = Array.from({ length: 12 }, (_, i) => i);
        const ar = client.loadBalancedView().map<[number, number]>("./tasks.ts#slowSquare", items);
        const got = await within(ar, T, "map");
        assert.deepEqual(got.map((r) => r[0]), items.map((x) => x * x));
        const used = new Set(got.map((r) => r[1]));
        if (scheme === "lru" || scheme === "leastload") assert.equal(used.size, 3, `${scheme} spreads over every engine`);
        else assert.ok(used.size >= 2, `${scheme} used ${used.size} engines`);
        assert.equal(controller.scheduler.pending, 0);
        assert.deepEqual(controller.scheduler.loads, { 0: 0, 1: 0, 2: 0 });
      } finally {
        await client?.close();
        await Promise.all(engines.map((e) => e.stop()));
        await controller.stop();
      }
    });
  }

  test("a custom scheme function, and taskHighWaterMark 0 (no limit)", async () => {
    const picks: number[][] = [];
    const last = (loads: readonly number[]) => {
      picks.push([...loads]);
      return loads.length - 1;
    };
    const controller = await Controller.start({ transport: "inproc", taskScheme: last, taskHighWaterMark: 0, log: false });
    const engines: Engine[] = [];
    let client: Client | null = null;
    try {
      for (let i = 0; i < 2; i++) engines.push(await within(Engine.start(controller.connectionInfo, { moduleRoot, log: false }), T, "engine"));
      client = await within(Client.connect(controller.connectionInfo, { log: false }), T, "client");
      const got = await within(client.loadBalancedView().map<[number, number]>("./tasks.ts#slowSquare", [1, 2, 3, 4]), T, "map");
      assert.deepEqual(got.map((r) => r[0]), [1, 4, 9, 16]);
      assert.ok(picks.length === 4 && picks.some((l) => l.some((x) => x > 1)), "with no limit an engine holds several tasks");
    } finally {
      await client?.close();
      await Promise.all(engines.map((e) => e.stop()));
      await controller.stop();
    }
  });

  test("unknown schemes and bad options are refused", async () => {
    await assert.rejects(Controller.start({ transport: "inproc", taskScheme: "fastest" as never }), TypeError);
    await assert.rejects(Controller.start({ transport: "inproc", heartbeat: { period: 0 } }), code("EINVAL"));
    await assert.rejects(LocalCluster.start({ transport: "inproc", mode: "process" }), code("EINVAL"));
  });
});
