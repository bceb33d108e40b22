/**
 * Messages per second through the devices, next to the same flow without one, in the
 * same run: 16-byte messages over tcp on 127.0.0.1, everything in this one thread.
 *
 *   direct:          DEALER -> ROUTER
 *   queue:           DEALER -> ROUTER | Proxy | DEALER -> ROUTER
 *   monitored queue: DEALER -> ROUTER | MonitoredQueue (PUB monitor, one SUB reading) | DEALER -> ROUTER
 *
 *   node --import tsx bench/devices.ts [seconds per case = 1] [rounds = 1]
 *
 * The producer awaits each send() (so it is paced by the high-water marks, default
 * 1000); the consumer awaits receive(). A case runs for its time, after a short warm-up;
 * the rate counts messages received by the consumer. Each case is bounded (it stops at
 * its deadline even if traffic stalls).
 */
import { performance } from "node:perf_hooks";
import * as zmq from "../src/index.js";
import { Proxy, MonitoredQueue } from "../src/devices/index.js";

const SECONDS = Number(process.argv[2] ?? 1);
const ROUNDS = Number(process.argv[3] ?? 1);
const PAYLOAD = Buffer.alloc(16, 0x61);
const WARMUP_MS = 500;

interface Flow {
  /** Where the producer connects. */
  entry: string;
  /** Closes everything this flow made (the consumer and the device). */
  close(): void;
  /** Extra work to report (monitor copies seen). */
  extra?: () => string;
}

async function bindTcp(sock: zmq.Socket): Promise<string> {
  await sock.bind("tcp://127.0.0.1:*");
  return (sock as unknown as { lastEndpoint: string }).lastEndpoint;
}

/** Runs producer -> flow -> consumer for SECONDS; returns messages/s seen by the consumer. */
async function measure(name: string, consumer: zmq.Router, make: () => Promise<Flow>): Promise<number> {
  const flow = await make();
  const producer = new zmq.Dealer({ linger: 0 });
  producer.connect(flow.entry);
  let running = true;
  let received = 0;
  let counting = false;
  const producing = (async () => {
    while (running) {
      try {
        await producer.send(PAYLOAD);
      } catch {
        return;
      }
    }
  })();
  const consuming = (async () => {
    while (running) {
      try {
        await consumer.receive();
      } catch {
        return;
      }
      if (counting) received++;
    }
  })();
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  counting = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  counting = false;
  const elapsed = (performance.now() - t0) / 1000;
  running = false;
  producer.close();
  flow.close();
  consumer.close();
  await Promise.race([Promise.all([producing, consuming]), new Promise((r) => setTimeout(r, 1000))]);
  const rate = received / elapsed;
  console.log(`${name.padEnd(18)} ${Math.round(rate).toLocaleString("en-US").padStart(10)} msg/s  (${received} in ${elapsed.toFixed(2)} s)${flow.extra ? "  " + flow.extra() : ""}`);
  return rate;
}

async function direct(): Promise<number> {
  const consumer = new zmq.Router({ linger: 0 });
  const entry = await bindTcp(consumer);
  return measure("direct", consumer, async () => ({ entry, close() {} }));
}

async function viaQueue(): Promise<number> {
  const consumer = new zmq.Router({ linger: 0 });
  const exit = await bindTcp(consumer);
  return measure("queue (Proxy)", consumer, async () => {
    const front = new zmq.Router({ linger: 0 });
    const back = new zmq.Dealer({ linger: 0 });
    const entry = await bindTcp(front);
    back.connect(exit);
    const proxy = new Proxy(front, back);
    const done = proxy.run();
    return {
      entry,
      close() {
        proxy.terminate();
        void done;
      },
    };
  });
}

async function viaMonitoredQueue(): Promise<number> {
  const consumer = new zmq.Router({ linger: 0 });
  const exit = await bindTcp(consumer);
  return measure("monitored queue", consumer, async () => {
    const ins = new zmq.Router({ linger: 0 });
    const outs = new zmq.Dealer({ linger: 0 });
    const mon = new zmq.Publisher({ linger: 0 });
    const watcher = new zmq.Subscriber({ linger: 0 });
    const entry = await bindTcp(ins);
    outs.connect(exit);
    watcher.connect(await bindTcp(mon));
    watcher.subscribe();
    await new Promise((r) => setTimeout(r, 50)); // the subscription reaches the PUB
    let copies = 0;
    const watching = (async () => {
      for await (const _ of watcher) copies++;
    })();
    const mq = new MonitoredQueue(ins, outs, mon);
    const done = mq.run();
    return {
      entry,
      close() {
        mq.terminate();
        mon.close();
        watcher.close();
        void done;
        void watching;
      },
      extra: () => `monitor copies seen: ${copies}`,
    };
  });
}

console.log(`16 B messages over tcp, ${SECONDS} s per case, ${ROUNDS} rounds, node ${process.version}`);
const results: Record<string, number[]> = { direct: [], queue: [], monitored: [] };
for (let r = 0; r < ROUNDS; r++) {
  results.direct!.push(await direct());
  results.queue!.push(await viaQueue());
  results.monitored!.push(await viaMonitoredQueue());
}
const best = (xs: number[]) => Math.max(...xs);
const d = best(results.direct!);
console.log(
  `best: direct ${Math.round(d).toLocaleString("en-US")}, queue ${Math.round(best(results.queue!)).toLocaleString("en-US")} ` +
    `(${((best(results.queue!) / d) * 100).toFixed(0)}% of direct), monitored queue ${Math.round(best(results.monitored!)).toLocaleString("en-US")} ` +
    `(${((best(results.monitored!) / d) * 100).toFixed(0)}% of direct)`,
);
