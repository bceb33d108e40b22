/**
 * MonitoredQueue in IPython's scheduler shape: a ROUTER for clients, a ROUTER for
 * engines, and a PUB that gets a copy of every message (prefixed "in" or "out").
 * With ROUTER on both sides the device swaps the first two frames, so a client
 * addresses an engine by its routing id and the engine sees who asked:
 *
 *   client DEALER sends       [engine, request]
 *   in ROUTER receives        [client, engine, request]   -> swapped -> out ROUTER sends
 *   engine DEALER receives    [client, request]; replies [client, result]
 *   out ROUTER receives       [engine, client, result]    -> swapped -> in ROUTER sends
 *   client DEALER receives    [engine, result]
 *
 * The device binds all three; clients, engines and monitors connect.
 * Run: node --import tsx examples/monitored-queue.ts
 */
import * as zmq from "../src/index.js";

async function engine(name: string, endpoint: string): Promise<zmq.Dealer> {
  const sock = new zmq.Dealer({ routingId: name });
  sock.connect(endpoint);
  void (async () => {
    for await (const [client, code] of sock) {
      const [op, arg] = code!.toString().split(" ");          // "execute" the request
      const x = Number(arg);
      const result = op === "square" ? x * x : op === "cube" ? x * x * x : NaN;
      await sock.send([client!, `${name}: ${code} = ${result}`]);
    }
  })();
  return sock;
}

async function main(): Promise<void> {
  const clients = new zmq.Router();
  const engines = new zmq.Router();
  const mon = new zmq.Publisher();
  await clients.bind("tcp://127.0.0.1:*");
  await engines.bind("tcp://127.0.0.1:*");
  await mon.bind("tcp://127.0.0.1:*");
  const device = new zmq.MonitoredQueue(clients, engines, mon, { inPrefix: "in", outPrefix: "out" });
  const running = device.run();

  const watcher = new zmq.Subscriber();
  watcher.connect(mon.lastEndpoint!);
  watcher.subscribe("");

  const e0 = await engine("engine-0", engines.lastEndpoint!);
  const e1 = await engine("engine-1", engines.lastEndpoint!);
  const client = new zmq.Dealer({ routingId: "client-A", receiveTimeout: 3000 });
  client.connect(clients.lastEndpoint!);

  // Wait for the engines' connections (a ROUTER drops messages to unknown ids) and the
  // monitor's subscription (a PUB drops messages nobody subscribed to yet).
  await new Promise<void>((resolve) => { let n = 0; engines.events.on("handshake", () => { if (++n === 2) resolve(); }); });
  await new Promise<void>((resolve) => watcher.events.on("handshake", () => resolve()));
  await new Promise((r) => setTimeout(r, 50));

  const jobs: [string, string][] = [["engine-0", "square 7"], ["engine-1", "cube 3"], ["engine-0", "square 12"]];
  for (const [target, code] of jobs) await client.send([target, code]);
  for (let i = 0; i < jobs.length; i++) {
    const [from, result] = await client.receive();
    console.log(`client got from ${from}: ${result}`);
  }

  // The monitor saw each request (in) and each reply (out), as forwarded (swapped).
  const seen: string[] = [];
  for (let i = 0; i < jobs.length * 2; i++) {
    const frames = await watcher.receive();
    seen.push(frames.map((f) => f.toString()).join(" | "));
  }
  for (const line of seen) console.log(`monitor: ${line}`);
  const s = device.statistics();
  console.log(`statistics: in-socket received ${s.frontEnd.messagesIn} frames, out-socket received ${s.backEnd.messagesIn} frames`);

  device.terminate();                                        // closes clients and engines
  await running;
  for (const sock of [client, e0, e1, watcher, mon]) sock.close();
  console.log("monitored queue: 3 jobs routed and monitored");
}

main().catch((e) => { console.error(e); process.exit(1); });
