/**
 * Devices against real libzmq: Debian's pyzmq 24 / libzmq 4.3.4 (/usr/bin/python3), in
 * child processes (test/devices/peers/device_peer.py), each killed in `finally`.
 *
 *  - pyzmq REQ clients and REP workers through our queue() and our MonitoredQueue;
 *  - our sockets through pyzmq's zmq.devices.monitored_queue, in the same scenarios as
 *    our MonitoredQueue, so both produce the same monitor stream.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as zmq from "../../src/index.js";
import { queue, forwarder, MonitoredQueue } from "../../src/devices/index.js";
import { within } from "../helpers/util.js";
import { T, bindFresh, receiveN, strs, closeAll, until } from "./helpers.js";

const PYTHON = "/usr/bin/python3";
const PEER = fileURLToPath(new URL("./peers/device_peer.py", import.meta.url));
const havePyzmq = spawnSync(PYTHON, ["-c", "import zmq.devices"], { timeout: 10_000 }).status === 0;

/** A pyzmq child: JSON lines on stdout, killed by kill(). */
class Py {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: unknown[] = [];
  private waiter: (() => void) | null = null;
  private stderr = "";
  private exited = false;

  constructor(mode: string, args: object) {
    this.child = spawn(PYTHON, ["-u", PEER, mode, JSON.stringify(args)], { stdio: ["pipe", "pipe", "pipe"] });
    let buf = "";
    this.child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        this.lines.push(JSON.parse(buf.slice(0, nl)));
        buf = buf.slice(nl + 1);
      }
      this.waiter?.();
    });
    this.child.stderr.setEncoding("utf8").on("data", (c: string) => { this.stderr += c; });
    this.child.on("exit", () => {
      this.exited = true;
      this.waiter?.();
    });
  }

  /** The next JSON line, within ms. */
  async next<R = Record<string, unknown>>(ms = T, what = "a line from the python peer"): Promise<R> {
    await within(new Promise<void>((resolve, reject) => {
      const check = () => {
        if (this.lines.length > 0) resolve();
        else if (this.exited) reject(new Error(`python peer exited: ${this.stderr}`));
        else this.waiter = check;
      };
      check();
    }), ms, what).finally(() => { this.waiter = null; });
    return this.lines.shift() as R;
  }

  kill(): void {
    if (!this.exited) this.child.kill("SIGKILL");
  }
}

// Interop is required, never skipped: without /usr/bin/python3 + pyzmq the suite fails here.
describe("devices interop with pyzmq 24 / libzmq 4.3.4", () => {
  test("pyzmq is available", () => assert.ok(havePyzmq, "no /usr/bin/python3 with pyzmq (apt-get install python3-zmq)"));

  test("a pyzmq PUB and a pyzmq SUB through our forwarder(XSubscriber, XPublisher): the subscription flows upstream, only its topic arrives", async () => {
    const front = new zmq.XSubscriber();
    const back = new zmq.XPublisher();
    let pub: Py | null = null;
    let sub: Py | null = null;
    try {
      const fa = await bindFresh(front, "tcp");
      const ba = await bindFresh(back, "tcp");
      const proxy = forwarder(front, back);
      pub = new Py("publisher", { endpoint: fa, seconds: 8 });
      assert.deepEqual(await pub.next(), { ready: true });
      sub = new Py("subscriber", { endpoint: ba, topic: "a", count: 5 });
      const res = await sub.next<{ topics: string[] }>(T, "the subscriber's topics");
      assert.deepEqual(res.topics, ["a", "a", "a", "a", "a"]);
      proxy.terminate();
      await within(proxy.done, T, "done");
    } finally {
      pub?.kill();
      sub?.kill();
      closeAll(front, back);
    }
  });

  test("pyzmq REQ clients and REP workers through our queue(Router, Dealer) over tcp", async () => {
    const front = new zmq.Router();
    const back = new zmq.Dealer();
    let workers: Py | null = null;
    let clients: Py | null = null;
    try {
      const fa = await bindFresh(front, "tcp");
      const ba = await bindFresh(back, "tcp");
      const proxy = queue(front, back);
      workers = new Py("workers", { endpoint: ba, workers: 2, seconds: 8 });
      assert.deepEqual(await workers.next(), { ready: true });
      clients = new Py("clients", { endpoint: fa, clients: 4, requests: 10 });
      const res = await clients.next<{ ok: boolean; error?: string; replies: string[] }>(T, "the clients' result");
      assert.equal(res.ok, true, res.error);
      assert.equal(res.replies.length, 40);
      assert.deepEqual(proxy.statistics().frontEnd.messagesIn, 40 * 3, "REQ via ROUTER: [id, \"\", body]");
      proxy.terminate();
      await within(proxy.done, T, "done");
    } finally {
      workers?.kill();
      clients?.kill();
      closeAll(front, back);
    }
  });

  test("pyzmq REQ clients and REP workers through our MonitoredQueue (ROUTER/DEALER, XPUB monitor) over tcp", async () => {
    const ins = new zmq.Router();
    const outs = new zmq.Dealer();
    const mon = new zmq.XPublisher();
    const watcher = new zmq.Subscriber();
    let workers: Py | null = null;
    let clients: Py | null = null;
    try {
      const ia = await bindFresh(ins, "tcp");
      const oa = await bindFresh(outs, "tcp");
      watcher.connect(await bindFresh(mon, "tcp"));
      watcher.subscribe("in", "out");
      // The monitor drops copies until the subscriptions arrive: an XPUB shows when they have.
      const subs = (await receiveN(mon, 2, T, "the watcher's subscriptions")).map((m) => m[0]!.toString("latin1"));
      assert.deepEqual(subs.sort(), ["\x01in", "\x01out"]);
      const mq = new MonitoredQueue(ins, outs, mon);
      const done = mq.run();
      workers = new Py("workers", { endpoint: oa, workers: 2, seconds: 8 });
      assert.deepEqual(await workers.next(), { ready: true });
      clients = new Py("clients", { endpoint: ia, clients: 3, requests: 5 });
      const res = await clients.next<{ ok: boolean; error?: string; replies: string[] }>(T, "the clients' result");
      assert.equal(res.ok, true, res.error);
      assert.equal(res.replies.length, 15);
      const seen = (await receiveN(watcher, 30, T, "30 monitor copies")).map(strs);
      const ins_ = seen.filter((m) => m[0] === "in");
      const outs_ = seen.filter((m) => m[0] === "out");
      assert.equal(ins_.length, 15);
      assert.equal(outs_.length, 15);
      for (const m of ins_) {
        assert.equal(m.length, 4, "in: [prefix, routing id, empty, request]");
        assert.equal(m[2], "");
        assert.match(m[3]!, /^c\d-r\d$/);
      }
      for (const m of outs_) assert.match(m[3]!, /^c\d-r\d\|w[01]$/);
      mq.terminate();
      await within(done, T, "run()");
    } finally {
      workers?.kill();
      clients?.kill();
      closeAll(ins, outs, mon, watcher);
    }
  });

  /**
   * IPython's scheduler shape against either monitored queue: client and engine DEALERs with
   * routing ids, a SUB on the monitor. Returns the monitor stream of one exchange.
   */
  async function schedulerExchange(inAddr: string, outAddr: string, monAddr: string): Promise<string[][]> {
    const client = new zmq.Dealer({ routingId: "client-A" });
    const engine = new zmq.Dealer({ routingId: "engine-B" });
    const watcher = new zmq.Subscriber();
    try {
      watcher.connect(monAddr);
      watcher.subscribe();
      client.connect(inAddr);
      engine.connect(outAddr);
      // Until both ids are known and the monitor's subscription has arrived (pings sent
      // before that are dropped by the ROUTER or the PUB).
      const pingUntil = (sock: zmq.Dealer | zmq.Subscriber, ok: (m: string[]) => boolean, what: string) =>
        until(async () => {
          await client.send(["engine-B", "ping"]);
          sock.receiveTimeout = 30;
          try {
            return ok(strs(await sock.receive()));
          } catch {
            return false;
          } finally {
            sock.receiveTimeout = -1;
          }
        }, T, what);
      await pingUntil(engine, (m) => m[1] === "ping", "a ping at the engine");
      await pingUntil(watcher, (m) => m[0] === "in", "a monitored ping");
      for (const s of [engine, watcher]) for (;;) {
        s.receiveTimeout = 50;
        try { await s.receive(); } catch { break; } finally { s.receiveTimeout = -1; }
      }
      await client.send(["engine-B", "apply", "f(x)"]);
      assert.deepEqual(strs(await within(engine.receive(), T, "task")), ["client-A", "apply", "f(x)"]);
      await engine.send(["client-A", "result", "y"]);
      assert.deepEqual(strs(await within(client.receive(), T, "result")), ["engine-B", "result", "y"]);
      return (await receiveN(watcher, 2, T, "monitor copies")).map(strs);
    } finally {
      closeAll(client, engine, watcher);
    }
  }

  const expectedStream = [
    ["in", "engine-B", "client-A", "apply", "f(x)"],
    ["out", "client-A", "engine-B", "result", "y"],
  ];

  test("our DEALER clients/engines through pyzmq's monitored_queue(ROUTER, ROUTER, PUB): same stream as ours", async () => {
    let device: Py | null = null;
    try {
      device = new Py("monitored_queue", { in_type: "ROUTER", out_type: "ROUTER" });
      const eps = await device.next<{ in: string; out: string; mon: string }>(T, "the device's endpoints");
      assert.deepEqual(await schedulerExchange(eps.in, eps.out, eps.mon), expectedStream);
    } finally {
      device?.kill();
    }
  });

  test("the same exchange through our MonitoredQueue(ROUTER, ROUTER, PUB)", async () => {
    const ins = new zmq.Router();
    const outs = new zmq.Router();
    const mon = new zmq.Publisher();
    try {
      const ia = await bindFresh(ins, "tcp");
      const oa = await bindFresh(outs, "tcp");
      const ma = await bindFresh(mon, "tcp");
      const mq = new MonitoredQueue(ins, outs, mon);
      const done = mq.run();
      assert.deepEqual(await schedulerExchange(ia, oa, ma), expectedStream);
      mq.terminate();
      await within(done, T, "run()");
    } finally {
      closeAll(ins, outs, mon);
    }
  });

  test("our REQ client and REP worker through pyzmq's monitored_queue(ROUTER, DEALER, PUB)", async () => {
    let device: Py | null = null;
    const client = new zmq.Request();
    const worker = new zmq.Reply();
    const watcher = new zmq.Subscriber();
    try {
      device = new Py("monitored_queue", { in_type: "ROUTER", out_type: "DEALER" });
      const eps = await device.next<{ in: string; out: string; mon: string }>(T, "the device's endpoints");
      watcher.connect(eps.mon);
      watcher.subscribe("in", "out");
      client.connect(eps.in);
      worker.connect(eps.out);
      // Round trips until the watcher's subscription has reached libzmq's PUB and a copy shows up.
      let warm = 0;
      await until(async () => {
        await client.send(`warm${warm}`);
        const [q] = await within(worker.receive(), T, "a warm-up request");
        await worker.send(q!);
        await within(client.receive(), T, "a warm-up reply");
        warm++;
        watcher.receiveTimeout = 30;
        try { await watcher.receive(); return true; } catch { return false; } finally { watcher.receiveTimeout = -1; }
      }, T, "a monitor copy");
      for (;;) {
        watcher.receiveTimeout = 50;
        try { await watcher.receive(); } catch { break; } finally { watcher.receiveTimeout = -1; }
      }
      for (let k = 0; k < 5; k++) {
        await client.send(`q${k}`);
        const [q] = await within(worker.receive(), T, `q${k}`);
        await worker.send(`${q!.toString()}!`);
        assert.deepEqual(strs(await within(client.receive(), T, `reply ${k}`)), [`q${k}!`]);
      }
      const seen = (await receiveN(watcher, 10, T, "monitor copies")).map(strs);
      assert.deepEqual(seen.map((m) => [m[0], m[2], m[3]]), [0, 1, 2, 3, 4].flatMap((k) => [["in", "", `q${k}`], ["out", "", `q${k}!`]]));
    } finally {
      device?.kill();
      closeAll(client, worker, watcher);
    }
  });
});
