/**
 * Faults: an engine that dies mid-task is noticed by heartbeat within the stated bound
 * (period × (maxMissed + 1)); its direct tasks fail with EENGINEDIED naming it, its
 * load-balanced tasks fail the same way or are resubmitted when they asked for retries;
 * the peers' tables drop it and a collective in progress fails instead of hanging; the
 * other engines keep working. A client that disconnects leaves the cluster healthy.
 * Forged and malformed messages to the hub, the scheduler, an engine and a client are
 * dropped and counted, never executed.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Dealer, Publisher } from "../../src/index.js";
import {
  Client, ClusterError, Controller, Engine, LocalCluster, Session, type AsyncResult,
} from "../../src/cluster/index.js";
import { DELIMITER } from "../../src/cluster/session.js";
import { within } from "../helpers/util.js";

const moduleRoot = join(process.cwd(), "test/cluster/fixtures");
const T = 15_000;
const HEARTBEAT = { period: 100, maxMissed: 4 };
/** Slack over the detection bound for a busy 2-core machine. */
const SLACK = 1500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * Resolves once every request of `ar` has published "started" on iopub (the fixtures
 * announcedSleep and allreduceUnlessVictim do), so a test kills an engine mid-task by
 * event, not after a guessed sleep. Call before submitting: the events are recorded as
 * they come.
 */
function startedWatch(client: Client): { running(ar: { readonly msgIds: readonly string[] }, ms?: number): Promise<void> } {
  const started = new Set<string>();
  const wakes = new Set<() => void>();
  client.on("data", (ev) => {
    if (ev.data === "started" && ev.msgId !== null) {
      started.add(ev.msgId);
      for (const w of wakes) w();
    }
  });
  return {
    running: (ar, ms = T) => within(new Promise<void>((resolve) => {
      const check = () => {
        if (ar.msgIds.every((id) => started.has(id))) {
          wakes.delete(check);
          resolve();
        }
      };
      wakes.add(check);
      check();
    }), ms, "every part of the call to start"),
  };
}

/** Every part's error (null for a part that succeeded), once all have been answered. */
async function settleAll<T>(ar: AsyncResult<T>, ms: number): Promise<Array<ClusterError | null>> {
  const outcomes = await within(ar.allSettled(), ms, "every part answered");
  return outcomes.map((o) => (o.status === "rejected" ? (o.reason as ClusterError) : null));
}

describe("engine deaths over inproc (inline engines)", () => {
  let controller: Controller;
  const engines = new Map<number, Engine>();
  let client: Client;

  before(async () => {
    controller = await Controller.start({ transport: "inproc", heartbeat: HEARTBEAT, log: false });
    for (let i = 0; i < 7; i++) {
      const e = await within(Engine.start(controller.connectionInfo, { moduleRoot, log: false }), T, "engine");
      engines.set(e.id, e);
    }
    client = await within(Client.connect(controller.connectionInfo, { log: false }), T, "client");
    await within(client.waitForEngines(7, { timeout: T }), T, "7 engines");
    assert.equal(controller.detectionBound, 500);
  });

  after(async () => {
    await client.close();
    await Promise.all([...engines.values()].map((e) => e.stop()));
    await controller.stop();
  });

  test("a direct task on an engine that dies fails with EENGINEDIED naming it, within the bound; the others keep working", async () => {
    const watch = startedWatch(client);
    const ar = client.view(1).apply("./tasks.ts#announcedSleep", 10_000);
    await watch.running(ar);
    const killed = Date.now();
    engines.get(1)!.kill();
    await assert.rejects(within(ar, T, "the failure"), (e: unknown) => {
      const ce = e as ClusterError;
      return ce.code === "EENGINEDIED" && ce.engineId === 1 && /engine 1\b/.test(ce.message);
    });
    const took = Date.now() - killed;
    assert.ok(took <= controller.detectionBound + SLACK, `noticed after ${took} ms`);
    assert.ok(!client.ids.includes(1));
    assert.ok(!controller.engines.some((e) => e.id === 1));
    for (const id of [0, 2, 3]) {
      await until(() => !engines.get(id)!.mesh.peers().some((p) => p.id === 1), 2000, `engine ${id} drops 1 from its table`);
    }
    await until(() => controller.tasks.get(ar.msgIds[0]!)?.state === "failed", 2000, "the hub records the failure");
    assert.equal(controller.tasks.get(ar.msgIds[0]!)!.error!.code, "EENGINEDIED");
    assert.deepEqual(await within(client.view([0, 2, 3]).apply("./tasks.ts#add", 1, 1), T, "the others"), [2, 2, 2]);
    const reduced = await within(client.view([0, 2, 3]).apply<{ sum: Float64Array }>("./tasks.ts#allreduceSum", 1), T, "a collective without it");
    assert.deepEqual([...reduced[0]!.sum], [3, 30]);
    assert.throws(() => client.view(1).apply("./tasks.ts#add"), (e: unknown) => (e as ClusterError).code === "EINVAL");
  });

  test("a load-balanced task on an engine that dies: EENGINEDIED naming it (no retries)", async () => {
    const lb = client.loadBalancedView({ targets: [2, 3] });
    const ar = lb.apply("./tasks.ts#sleep", 10_000);
    await until(() => Object.values(controller.scheduler.loads).some((n) => n > 0), 2000, "the task is given to an engine");
    const victim = Number(Object.entries(controller.scheduler.loads).find(([, n]) => n > 0)![0]);
    const killed = Date.now();
    engines.get(victim)!.kill();
    await assert.rejects(within(ar, T, "the failure"), (e: unknown) => {
      const ce = e as ClusterError;
      return ce.code === "EENGINEDIED" && ce.engineId === victim && new RegExp(`engine ${victim} died`).test(ce.message);
    });
    assert.ok(Date.now() - killed <= controller.detectionBound + SLACK);
    assert.equal(ar.metadata[0]!.engineId, victim);
    await until(() => controller.tasks.get(ar.msgIds[0]!)?.state === "failed", 2000, "the hub records it");
  });

  test("a load-balanced task that asked for retries is resubmitted to another engine", async () => {
    const lb = client.loadBalancedView({ retries: 1, targets: [4, 5] });
    const ar = lb.apply<number>("./tasks.ts#sleep", 300);
    await until(() => Object.values(controller.scheduler.loads).some((n) => n > 0), 2000, "the task is given to an engine");
    const victim = Number(Object.entries(controller.scheduler.loads).find(([, n]) => n > 0)![0]);
    engines.get(victim)!.kill();
    const ranOn = await within(ar, T, "the resubmitted task");
    assert.notEqual(ranOn, victim);
    assert.equal(ar.metadata[0]!.engineId, ranOn);
    await until(() => controller.tasks.get(ar.msgIds[0]!)?.state === "completed", 2000, "the hub records it");
    assert.equal(controller.tasks.get(ar.msgIds[0]!)!.resubmitted, 1);
    assert.equal(controller.tasks.get(ar.msgIds[0]!)!.engine_id, ranOn);
  });

  test("a collective in progress fails cleanly when a member dies", async () => {
    const group = client.ids; // e.g. [0, 2, 3, 6] after the deaths above, plus whichever survived
    assert.ok(group.length >= 3, `${group}`);
    const victim = group[group.length - 1]!;
    const watch = startedWatch(client);
    const ar = client.view(group).apply("./tasks.ts#allreduceUnlessVictim", victim);
    await watch.running(ar);
    const killed = Date.now();
    engines.get(victim)!.kill();
    const errors = await settleAll(ar, controller.detectionBound + SLACK + 2000);
    const took = Date.now() - killed;
    assert.ok(took <= controller.detectionBound + SLACK, `every member answered within ${took} ms`);
    errors.forEach((e, i) => {
      assert.ok(e instanceof ClusterError, `part ${i} failed`);
      if (group[i] === victim) assert.equal(e.code, "EENGINEDIED");
      else assert.ok(e.code === "EENGINEDIED" || e.code === "EABORTED", `${e.code}: ${e.message}`);
      assert.ok(/engine \d+/.test(e.message));
    });
    // The survivors are fine.
    const rest = group.filter((g) => g !== victim);
    const reduced = await within(client.view(rest).apply<{ sum: Float64Array }>("./tasks.ts#allreduceSum", 1), T, "a new collective");
    assert.equal(reduced[0]!.sum[0], rest.length);
  });

  test("a client that disconnects mid-flight leaves the engines and controller healthy", async () => {
    const other = await within(Client.connect(controller.connectionInfo, { log: false }), T, "second client");
    const ids = other.ids;
    const watch = startedWatch(other);
    const direct = other.view(ids).apply("./tasks.ts#announcedSleep", 100);
    const tasks = other.loadBalancedView().map("./tasks.ts#delayedSquare", [100, 100, 100, 100]);
    await watch.running(direct);
    await other.close();
    await assert.rejects(direct.get(1000), (e: unknown) => (e as ClusterError).code === "ECLOSED");
    await assert.rejects(tasks.get(1000), (e: unknown) => (e as ClusterError).code === "ECLOSED");
    assert.throws(() => other.view(ids).apply("./tasks.ts#add"), (e: unknown) => (e as ClusterError).code === "ECLOSED");
    // The engines finish the orphaned work; their replies are dropped by the ROUTERs.
    await until(() => controller.scheduler.pending === 0 && Object.values(controller.scheduler.loads).every((n) => n === 0), 5000, "the scheduler drains");
    assert.deepEqual(await within(client.view(ids).apply("./tasks.ts#add", 2, 2), T, "still works"), ids.map(() => 4));
    assert.deepEqual(await within(client.loadBalancedView().map("./tasks.ts#square", [1, 2, 3]), T, "lb still works"), [1, 4, 9]);
    assert.deepEqual(controller.engines.map((e) => e.id), ids);
  });
});

describe("forged and malformed messages are dropped and counted, never executed (inproc)", () => {
  let controller: Controller;
  let engine: Engine;
  let client: Client;
  const forger = new Session({ key: "not the cluster's key" });
  const sockets: Array<{ close(): void }> = [];

  before(async () => {
    controller = await Controller.start({ transport: "inproc", heartbeat: HEARTBEAT, log: false });
    engine = await within(Engine.start(controller.connectionInfo, { moduleRoot, log: false }), T, "engine");
    client = await within(Client.connect(controller.connectionInfo, { log: false }), T, "client");
  });

  after(async () => {
    for (const s of sockets) s.close();
    await client.close();
    await engine.stop();
    await controller.stop();
  });

  const dealer = (endpoint: string, routingId: string) => {
    const d = new Dealer({ routingId, linger: 0 });
    d.connect(endpoint);
    sockets.push(d);
    return d;
  };

  const notDefined = async (name: string) => {
    await assert.rejects(within(client.view(engine.id).pull(name), T, "pull"), (e: unknown) => (e as ClusterError).ename === "NameError");
  };

  test("to the hub: a forged registration, garbage, a malformed request", async () => {
    const ep = controller.connectionInfo.endpoints.registration;
    const d = dealer(ep, "forger-uuid");
    const before = { ...controller.hub.dropped };
    await d.send(forger.build("registration_request", { uuid: "forger-uuid", peer_endpoint: "inproc://x" }).frames);
    await d.send([Buffer.from("garbage")]);
    await d.send([DELIMITER, Buffer.from("sig")]);
    await until(() => controller.hub.dropped.invalid >= before.invalid + 3, 5000, "the hub counts them");
    assert.deepEqual(controller.engines.map((e) => e.id), [engine.id], "no engine registered");
    // Signed, but not a registration: refused with an error reply, counted.
    const signed = controller.session;
    await d.send(signed.build("registration_request", { peer_endpoint: 3 }).frames);
    d.receiveTimeout = 5000;
    const reply = signed.deserialize(await d.receive());
    assert.equal(reply.content.status, "error");
    assert.equal(reply.content.code, "EPROTO");
    assert.equal(controller.hub.dropped.malformed, before.malformed + 1);
    assert.deepEqual(controller.engines.map((e) => e.id), [engine.id]);
  });

  test("to the task scheduler and to an engine: forged requests are never run", async () => {
    const task = dealer(controller.connectionInfo.endpoints.task_client, "forger-task");
    const before = controller.scheduler.dropped.invalid;
    const forged = forger.build("apply_request", { fn: "./tasks.ts#setNamed", args: ["forgedTask", 1] });
    await task.send(forged.frames);
    await until(() => controller.scheduler.dropped.invalid === before + 1, 5000, "the scheduler counts it");

    const mux = dealer(controller.connectionInfo.endpoints.mux_client, "forger-mux");
    const engineBefore = { ...engine.dropped };
    const toEngine = forger.build("apply_request", { fn: "./tasks.ts#setNamed", args: ["forgedDirect", 1] }, { identities: [engine.uuid] });
    await mux.send(toEngine.frames);
    await until(() => engine.dropped.invalid === engineBefore.invalid + 1, 5000, "the engine counts it");
    // Tampered: right key, content changed after signing.
    const good = controller.session.build("apply_request", { fn: "./tasks.ts#setNamed", args: ["tampered", 1] }, { identities: [engine.uuid] });
    const tampered = good.frames.slice();
    tampered[5] = Buffer.from(JSON.stringify({ fn: "./tasks.ts#setNamed", args: ["tampered", 2] }));
    await mux.send(tampered);
    await until(() => engine.dropped.invalid === engineBefore.invalid + 2, 5000, "the engine counts the tampered one");
    // Signed, but the body is not a request: an EPROTO error reply, not run.
    const malformed = controller.session.build("apply_request", { fn: 42, args: "nope" }, { identities: [engine.uuid] });
    await mux.send(malformed.frames);
    mux.receiveTimeout = 5000;
    const reply = controller.session.deserialize(await mux.receive());
    assert.equal(reply.content.status, "error");
    assert.equal(reply.content.code, "EPROTO");
    assert.equal(engine.dropped.malformed, engineBefore.malformed + 1);
    for (const name of ["forgedTask", "forgedDirect", "tampered"]) await notDefined(name);
    assert.equal(await within(client.view(engine.id).apply("./tasks.ts#add", 1, 2), T, "the engine still works"), 3);
  });

  test("to a client: forged replies and iopub messages are dropped and counted", async () => {
    const before = { ...client.dropped };
    const fakeEngine = dealer(controller.connectionInfo.endpoints.mux_engine, "fake-engine");
    await fakeEngine.send(forger.build("apply_reply", { status: "ok", result: 1 }, { identities: [client.routingId] }).frames);
    await until(() => client.dropped.invalid === before.invalid + 1, 5000, "the client counts the forged reply");
    // A correctly signed reply to nothing the client asked.
    await fakeEngine.send(controller.session.build("apply_reply", { status: "ok", result: 1 }, { identities: [client.routingId] }).frames);
    await until(() => client.dropped.unexpected === before.unexpected + 1, 5000, "the client counts the stray reply");

    const pub = new Publisher({ linger: 0 });
    sockets.push(pub);
    pub.connect(controller.connectionInfo.endpoints.iopub_engine);
    let streams = 0;
    const onStream = () => streams++;
    client.on("stream", onStream);
    try {
      // Subscriptions travel upstream asynchronously: publish until one arrives.
      await until(() => {
        void pub.send(forger.build("stream", { name: "stdout", text: "forged" }, { identities: ["engine.0.stream"] }).frames);
        return client.dropped.invalid > before.invalid + 1;
      }, 5000, "the client counts forged iopub");
    } finally {
      client.off("stream", onStream);
    }
    assert.equal(streams, 0, "no stream event for a forged message");
  });
});

describe("engine deaths across processes (ipc)", () => {
  test("SIGKILL mid-task and mid-collective: EENGINEDIED naming the engine within the bound; the rest keep working", async () => {
    const cluster = await within(LocalCluster.start({
      engines: 4, mode: "process", transport: "ipc", heartbeat: HEARTBEAT, engine: { moduleRoot }, log: false,
    }), 30_000, "cluster");
    try {
      const client = await within(cluster.client(), T, "client");
      const bound = cluster.controller.detectionBound;

      const watch = startedWatch(client);
      const ar = client.view(3).apply("./tasks.ts#announcedSleep", 10_000);
      await watch.running(ar);
      let killed = Date.now();
      await within(cluster.killEngine(3), T, "kill 3");
      await assert.rejects(within(ar, T, "the failure"), (e: unknown) => (e as ClusterError).code === "EENGINEDIED" && (e as ClusterError).engineId === 3);
      const direct = Date.now() - killed;
      assert.ok(direct <= bound + SLACK, `noticed after ${direct} ms`);

      const collective = client.view([0, 1, 2]).apply("./tasks.ts#allreduceUnlessVictim", 2);
      await watch.running(collective);
      killed = Date.now();
      await within(cluster.killEngine(2), T, "kill 2");
      const errors = await settleAll(collective, bound + SLACK + 2000);
      const during = Date.now() - killed;
      assert.ok(during <= bound + SLACK, `the collective failed after ${during} ms`);
      assert.ok(errors.every((e) => e instanceof ClusterError && (e.code === "EENGINEDIED" || e.code === "EABORTED")), errors.map((e) => e?.message).join("; "));
      process.stderr.write(`# detection across processes: direct task ${direct} ms, collective ${during} ms (bound ${bound} ms)\n`);

      const reduced = await within(client.view([0, 1]).apply<{ sum: Float64Array }>("./tasks.ts#allreduceSum", 1), T, "survivors");
      assert.deepEqual([...reduced[1]!.sum], [2, 20]);
    } finally {
      await within(cluster.stop(), 30_000, "stop");
    }
  });
});
