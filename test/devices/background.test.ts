/**
 * ThreadDevice / ProcessDevice (pyzmq's): devices configured by endpoints, running in a
 * worker thread or a child process, started and stopped from here. Loopback only, every
 * wait bounded, everything stopped in `finally`.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import { connect as netConnect } from "node:net";
import { writeFileSync, rmSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as zmq from "../../src/index.js";
import { ThreadDevice, ProcessDevice, type BackgroundDeviceSpec } from "../../src/devices/index.js";
import { within } from "../helpers/util.js";
import { runtimeName } from "../helpers/runtime.js";
import { T, strs, closeAll, until } from "./helpers.js";

const LOOP = "tcp://127.0.0.1:*";

const queueSpec = (): BackgroundDeviceSpec => ({
  kind: "queue",
  frontEnd: { type: "ROUTER", bind: [LOOP] },
  backEnd: { type: "DEALER", bind: [LOOP] },
});

/** Resolves with the connect error's code (ECONNREFUSED once nothing listens), or "connected". */
function probe(endpoint: string): Promise<string> {
  const url = new URL(endpoint.replace(/^tcp:/, "http:"));
  return new Promise((resolve) => {
    const s = netConnect({ host: url.hostname, port: Number(url.port) });
    s.once("connect", () => {
      s.destroy();
      resolve("connected");
    });
    s.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
  });
}

/** The handles a running device adds to this process (its worker's port, its child and IPC pipe). */
const deviceHandles = () =>
  process.getActiveResourcesInfo().filter((r) => r === "MessagePort" || r === "ProcessWrap" || r === "PipeWrap" || r === "Worker").length;

/** The helper thread of the busy-loop test (CommonJS, eval'd): tsx, then our sockets. */
const HELPER = `
const { parentPort, workerData } = require("node:worker_threads");
import(workerData.tsxApi).then(async (api) => {
  api.register();
  const zmq = await import(workerData.zmq);
  let stop = false;
  parentPort.on("message", async (m) => {
    if (m.t === "stop") { stop = true; return; }
    if (m.t !== "run") return;
    stop = false;
    const rep = new zmq.Reply({ linger: 0 });
    const req = new zmq.Request({ linger: 0, receiveTimeout: 3000 });
    rep.connect(m.back);
    req.connect(m.front);
    (async () => { for (;;) { const got = await rep.receive().catch(() => null); if (!got) return; await rep.send(got).catch(() => {}); } })();
    const stamps = [];
    try {
      for (let i = 0; !stop; i++) {
        await req.send(String(i));
        await req.receive();
        stamps.push(Date.now());
        if (stamps.length === 5) parentPort.postMessage({ t: "flowing" });
      }
      parentPort.postMessage({ t: "stamps", stamps });
    } catch (e) {
      parentPort.postMessage({ t: "error", message: String(e && e.message) });
    } finally {
      req.close();
      rep.close();
    }
  });
  parentPort.postMessage({ t: "ready" });
}).catch((e) => parentPort.postMessage({ t: "error", message: String(e && e.message) }));
`;

/** What this process holds before any device runs: the baseline the last test returns to. */
const baselineHandles = deviceHandles();

// Each device loads its own copy of the library (under tsx: compiled again in its thread or
// process), so these run concurrently; the busy-loop test runs alone afterwards.
describe("ThreadDevice / ProcessDevice", { concurrency: true }, () => {
  test("ThreadDevice queue (ROUTER front, DEALER back), REQ clients and REP workers here: replies reach the right client, statistics() counts, stop() closes the endpoints and lets the thread go", async () => {
    const device = new ThreadDevice(queueSpec());
    const clients = [new zmq.Request({ linger: 0 }), new zmq.Request({ linger: 0 })];
    const workers = [new zmq.Reply({ linger: 0 }), new zmq.Reply({ linger: 0 })];
    try {
      const { endpoints } = await within(device.start(), T, "the device to start");
      assert.equal(device.running, true);
      assert.equal(endpoints.frontEnd.length, 1);
      assert.equal(endpoints.backEnd.length, 1);
      assert.deepEqual(endpoints.monitor, []);
      for (const ep of [...endpoints.frontEnd, ...endpoints.backEnd]) assert.match(ep, /^tcp:\/\/127\.0\.0\.1:\d+$/);
      assert.notEqual(endpoints.frontEnd[0], LOOP);
      assert.deepEqual(device.endpoints, endpoints);

      for (const c of clients) c.connect(endpoints.frontEnd[0]!);
      for (const w of workers) w.connect(endpoints.backEnd[0]!);
      // Each worker answers with its name appended; the DEALER spreads requests over both.
      const served = workers.map(async (w, j) => {
        let n = 0;
        for (;;) {
          const got = await w.receive().catch(() => null);
          if (!got) return n;
          n++;
          await w.send(`${got[0]!.toString()}|w${j}`);
        }
      });
      const N = 10;
      await within(Promise.all(clients.map(async (c, i) => {
        for (let k = 0; k < N; k++) {
          await c.send(`c${i}-${k}`);
          const [reply] = await c.receive();
          assert.match(reply!.toString(), new RegExp(`^c${i}-${k}\\|w[01]$`));
        }
      })), T, "every client's replies");

      // Each request: [id, "", body] in on the ROUTER, out on the DEALER; each reply the reverse.
      const stats = await within(device.statistics(), T, "statistics");
      const frames = 3 * N * clients.length;
      assert.equal(stats.frontEnd.messagesIn, frames);
      assert.equal(stats.frontEnd.messagesOut, frames);
      assert.equal(stats.backEnd.messagesIn, frames);
      assert.equal(stats.backEnd.messagesOut, frames);
      assert.equal(stats.backEnd.bytesOut, stats.frontEnd.bytesIn);
      assert.ok(stats.frontEnd.bytesOut > stats.frontEnd.bytesIn, "replies are longer (|wN)");

      await within(device.stop(), T, "stop()");
      assert.equal(device.running, false);
      for (const ep of [...endpoints.frontEnd, ...endpoints.backEnd]) {
        assert.equal(await within(probe(ep), T, `connecting to ${ep}`), "ECONNREFUSED", `${ep} no longer accepts`);
      }
      await assert.rejects(device.statistics(), /not running/);
      await within(device.stop(), T, "a second stop()");
      await assert.rejects(device.start(), /already started/);
      closeAll(...workers);
      await within(Promise.all(served), T, "the workers' loops to end");
    } finally {
      closeAll(...clients, ...workers);
      await device.stop();
    }
  });

  test("ProcessDevice forwarder (XSUB front, XPUB back), PUB upstream and SUB downstream here: subscriptions travel up, matching messages travel down, statistics over IPC, stop() ends the child", async () => {
    const device = new ProcessDevice({
      kind: "forwarder",
      frontEnd: { type: "XSUB", bind: [LOOP] },
      backEnd: { type: "XPUB", bind: [LOOP] },
    });
    const pub = new zmq.Publisher({ linger: 0 });
    const sub = new zmq.Subscriber({ linger: 0, receiveTimeout: 50 });
    try {
      const { endpoints } = await within(device.start(), T, "the device process to start");
      pub.connect(endpoints.frontEnd[0]!);
      sub.connect(endpoints.backEnd[0]!);
      sub.subscribe("news");
      // The subscription reaches the PUB through the device some time after subscribe().
      await until(async () => {
        await pub.send("news warm-up");
        return (await sub.receive().catch(() => null)) !== null;
      }, T, "the subscription to reach the publisher through the device");
      await pub.send("sport skipped");
      await pub.send("news final");
      const seen: string[] = [];
      await within((async () => {
        for (;;) {
          const m = await sub.receive().catch(() => null);
          if (!m) continue;
          seen.push(strs(m)[0]!);
          if (seen.at(-1) === "news final") return;
        }
      })(), T, "the last news");
      assert.ok(seen.every((s) => s.startsWith("news")), `only news arrives: ${seen.join(", ")}`);

      const stats = await within(device.statistics(), T, "statistics");
      assert.ok(stats.backEnd.messagesIn >= 1, "the subscription came in on the XPUB");
      assert.equal(stats.frontEnd.messagesOut, stats.backEnd.messagesIn);
      assert.equal(stats.backEnd.messagesOut, stats.frontEnd.messagesIn);
      assert.ok(stats.frontEnd.messagesIn >= 2, "the news came in on the XSUB");

      await within(device.stop(), T, "stop()");
      assert.equal(device.running, false);
      assert.equal(await within(probe(endpoints.backEnd[0]!), T, "connecting to the back end"), "ECONNREFUSED");
    } finally {
      closeAll(pub, sub);
      await device.stop();
    }
  });

  test("a bad endpoint rejects start() with the device's error (thread: address in use; process: unknown transport)", async () => {
    const squatter = new zmq.Router({ linger: 0 });
    await squatter.bind(LOOP);
    const inUse = new ThreadDevice({ ...queueSpec(), frontEnd: { type: "ROUTER", bind: [squatter.lastEndpoint!] } });
    const unknown = new ProcessDevice({ ...queueSpec(), backEnd: { type: "DEALER", bind: ["bogus://nowhere"] } });
    // Stopped at once: killed (50 ms) before it has even loaded.
    const early = new ThreadDevice(queueSpec(), { stopTimeout: 50 });
    try {
      const earlyStart = early.start();
      const [a, b, c] = await within(Promise.all([
        inUse.start().then(() => null, (e: zmq.ZmqError) => e),
        unknown.start().then(() => null, (e: zmq.ZmqError) => e),
        early.stop().then(() => earlyStart.then(() => null, (e: Error) => e)),
      ]), 2 * T, "the three devices");
      assert.ok(a instanceof Error);
      assert.equal(a.code, "EADDRINUSE");
      assert.match(a.message, /^frontEnd could not bind "tcp:\/\/127\.0\.0\.1:\d+": Address already in use$/);
      assert.ok(b instanceof Error);
      assert.equal(b.code, "EPROTONOSUPPORT");
      assert.equal(b.message, 'backEnd could not bind "bogus://nowhere": Protocol not supported');
      assert.ok(c instanceof Error, "stop() during start() rejects start()");
      assert.match(c.message, /stopped before it started/);
      for (const d of [inUse, unknown, early]) {
        assert.equal(d.running, false);
        await assert.rejects(d.statistics());
      }
    } finally {
      closeAll(squatter);
      await Promise.all([inUse.stop(), unknown.stop(), early.stop()]);
    }
  });

  test("a device that never answers: start() rejects after startTimeout and the thread / child is killed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zmq-ts-bg-"));
    const silent = join(dir, "silent.mjs");
    // Ignores every message and never exits by itself.
    writeFileSync(silent, "setInterval(() => {}, 1000);\nprocess.on('message', () => {});\n");
    const opts = { workerEntry: silent, startTimeout: 300, stopTimeout: 200, requestTimeout: 200 };
    const devices = [new ThreadDevice(queueSpec(), opts), new ProcessDevice(queueSpec(), opts)];
    try {
      const started = Date.now();
      const errors = await within(Promise.all(devices.map((d) => d.start().then(() => null, (e: Error) => e))), T, "the start timeouts");
      for (const e of errors) {
        assert.ok(e instanceof Error);
        assert.match(e.message, /did not start within 300 ms/);
      }
      assert.ok(Date.now() - started < 2000, "start timeout + kill, not a hang");
      for (const d of devices) await within(d.stop(), T, "stop() of a killed device");
    } finally {
      await Promise.all(devices.map((d) => d.stop()));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a bad spec throws a TypeError at construction; stop() before start() is a no-op", async () => {
    const bad: unknown[] = [
      null,
      { ...queueSpec(), kind: "broker" },
      { ...queueSpec(), frontEnd: { type: "REQ", bind: [LOOP] } },
      { ...queueSpec(), backEnd: { type: "DEALER" } },
      { ...queueSpec(), backEnd: { type: "DEALER", bind: "tcp://127.0.0.1:*" } },
      { ...queueSpec(), kind: "monitored-queue" },
      { ...queueSpec(), inPrefix: "in" },
      { ...queueSpec(), extra: 1 },
      { ...queueSpec(), frontEnd: { type: "PUB", bind: [LOOP], subscribe: ["x"] } },
    ];
    for (const spec of bad) {
      assert.throws(() => new ThreadDevice(spec as BackgroundDeviceSpec), TypeError, JSON.stringify(spec));
      assert.throws(() => new ProcessDevice(spec as BackgroundDeviceSpec), TypeError, JSON.stringify(spec));
    }
    assert.throws(() => new ThreadDevice(queueSpec(), { startTimeout: -1 }), TypeError);
    const d = new ThreadDevice(queueSpec());
    await d.stop();
    await assert.rejects(d.statistics(), /not running/);
    // Options that cannot cross to the thread: start() rejects, the thread is let go at once.
    const uncloneable = new ThreadDevice(
      { ...queueSpec(), frontEnd: { type: "ROUTER", bind: [LOOP], options: { routingId: () => "x" } } },
      { stopTimeout: 50 },
    );
    const e = await within(uncloneable.start().then(() => null, (x: Error) => x), T, "start() of an uncloneable spec");
    assert.ok(e instanceof Error);
    // The runtime's own clone error: Deno's worker_threads postMessage throws a TypeError
    // ("... could not be cloned.") where Node and Bun throw a DOMException DataCloneError.
    if (runtimeName === "deno") {
      assert.equal(e.name, "TypeError");
      assert.match(e.message, /could not be cloned/);
    } else assert.equal(e.name, "DataCloneError");
    assert.equal(uncloneable.error, e);
    await within(uncloneable.stop(), T, "stop()");
  });

  test("ThreadDevice monitored-queue: the monitor (PUB) gets every message with the side's prefix", async () => {
    const device = new ThreadDevice({
      kind: "monitored-queue",
      frontEnd: { type: "ROUTER", bind: [LOOP] },
      backEnd: { type: "DEALER", bind: [LOOP] },
      monitor: { type: "PUB", bind: [LOOP] },
      inPrefix: "to-worker",
      outPrefix: "to-client",
    });
    const client = new zmq.Request({ linger: 0 });
    const worker = new zmq.Reply({ linger: 0 });
    const mon = new zmq.Subscriber({ linger: 0, receiveTimeout: 50 });
    try {
      const { endpoints } = await within(device.start(), T, "the device to start");
      assert.equal(endpoints.monitor.length, 1);
      client.connect(endpoints.frontEnd[0]!);
      worker.connect(endpoints.backEnd[0]!);
      mon.connect(endpoints.monitor[0]!);
      mon.subscribe();
      let k = 0;
      const first: { copy: Buffer[] | null } = { copy: null };
      // Round trips until the monitor's subscription is in place and a copy arrives.
      await until(async () => {
        await client.send(`ping ${k}`);
        const [req] = await worker.receive();
        await worker.send(`pong ${req!.toString().slice(5)}`);
        assert.equal((await client.receive())[0]!.toString(), `pong ${k}`);
        k++;
        first.copy = await mon.receive().catch(() => null);
        return first.copy !== null;
      }, T, "a monitor copy");
      const seen: string[][] = [strs(first.copy!)];
      for (;;) {
        const m = await mon.receive().catch(() => null);
        if (!m) break;
        seen.push(strs(m));
      }
      for (const m of seen) {
        assert.ok(m[0] === "to-worker" || m[0] === "to-client", `prefix: ${m.join("|")}`);
        // [prefix, routing id, "", body]
        assert.equal(m.length, 4);
        assert.match(m[3]!, m[0] === "to-worker" ? /^ping \d+$/ : /^pong \d+$/);
      }
      assert.ok(seen.some((m) => m[0] === "to-client"), "the reply's copy too");
    } finally {
      closeAll(client, worker, mon);
      await device.stop();
    }
  });
});

describe("ThreadDevice under a busy main thread", () => {
  test("while this thread busy-loops for 200 ms, the device thread keeps forwarding (an in-thread Proxy does not)", async (t) => {
    // REQ client and REP echo worker run in a helper worker thread, stamping each reply's
    // arrival; this thread only blocks. A reply stamped inside the busy window needed the
    // device to forward a request and a reply during it.
    const helper = new Worker(HELPER, {
      eval: true,
      execArgv: [],
      workerData: { tsxApi: import.meta.resolve("tsx/esm/api"), zmq: new URL("../../src/index.ts", import.meta.url).href },
    });
    helper.on("error", () => {});
    const messages: Array<{ t: string; stamps?: number[]; message?: string }> = [];
    let wake: (() => void) | null = null;
    helper.on("message", (m) => {
      messages.push(m);
      wake?.();
    });
    const next = (t: string) => within(new Promise<{ stamps?: number[]; message?: string }>((resolve, reject) => {
      const look = () => {
        const i = messages.findIndex((m) => m.t === t || m.t === "error");
        if (i < 0) return;
        const [m] = messages.splice(i, 1);
        wake = null;
        if (m!.t === "error") reject(new Error(`helper: ${m!.message}`));
        else resolve(m!);
      };
      wake = look;
      look();
    }), T, `the helper's "${t}"`);

    /** Runs the helper's client/worker through front/back, blocks 200 ms, returns the replies stamped inside the block. */
    const repliesDuringBusyLoop = async (front: string, back: string): Promise<number> => {
      helper.postMessage({ t: "run", front, back });
      await next("flowing");
      const t0 = Date.now();
      while (Date.now() - t0 < 200) {
        // Busy: no timers, no I/O on this thread.
      }
      const t1 = Date.now();
      helper.postMessage({ t: "stop" });
      const { stamps } = await next("stamps");
      // Margins: a reply already in flight at t0 may land just after it.
      return stamps!.filter((s) => s > t0 + 20 && s < t1 - 5).length;
    };

    const device = new ThreadDevice(queueSpec());
    let front: zmq.Router | null = null;
    let back: zmq.Dealer | null = null;
    let proxy: zmq.Proxy | null = null;
    try {
      const [{ endpoints }] = await Promise.all([within(device.start(), T, "the device to start"), next("ready")]);
      const inWindow = await repliesDuringBusyLoop(endpoints.frontEnd[0]!, endpoints.backEnd[0]!);
      assert.ok(inWindow >= 10, `the device thread forwarded ${inWindow} round trips while this thread was blocked`);
      t.diagnostic(`round trips through the device thread during the 200 ms block: ${inWindow}`);

      // The contrast: the same traffic through a Proxy on this thread stops while it blocks.
      front = new zmq.Router({ linger: 0 });
      back = new zmq.Dealer({ linger: 0 });
      await front.bind(LOOP);
      await back.bind(LOOP);
      proxy = new zmq.Proxy(front, back);
      const done = proxy.run();
      done.catch(() => {});
      const inThread = await repliesDuringBusyLoop(front.lastEndpoint!, back.lastEndpoint!);
      assert.equal(inThread, 0, "an in-thread proxy cannot forward while its thread is blocked");
    } finally {
      if (proxy?.running) proxy.terminate();
      closeAll(front, back);
      await helper.terminate();
      await device.stop();
    }
  });

  test("once every device is stopped, none of their threads, processes or channels keeps this process alive", async () => {
    await until(() => deviceHandles() <= baselineHandles, T, "the devices' handles to go");
  });
});
