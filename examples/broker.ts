/**
 * A request-reply broker: REQ clients connect to a ROUTER front end, REP workers
 * connect to a DEALER back end, and `queue()` (zmq_proxy / zmq.device(QUEUE)) shuttles
 * between them. The broker binds both ends: it is the one stable address; clients and
 * workers come and go. The ROUTER remembers who asked by prefixing the routing id; the
 * DEALER load-balances requests over workers and fair-queues their replies.
 * Run: node --import tsx examples/broker.ts
 */
import * as zmq from "../src/index.js";

async function worker(rep: zmq.Reply, name: string, served: Map<string, number>): Promise<void> {
  for await (const [request] of rep) {                      // the loop ends when rep is closed
    served.set(name, (served.get(name) ?? 0) + 1);
    await rep.send(`${request!.toString().toUpperCase()} (by ${name})`);
  }
}

async function client(i: number, endpoint: string): Promise<string> {
  const req = new zmq.Request({ receiveTimeout: 3000 });
  req.connect(endpoint);
  await req.send(`hello from client ${i}`);
  const [reply] = await req.receive();
  req.close();
  return reply!.toString();
}

async function main(): Promise<void> {
  const frontend = new zmq.Router();
  const backend = new zmq.Dealer();
  await frontend.bind("tcp://127.0.0.1:*");
  await backend.bind("tcp://127.0.0.1:*");
  const broker = zmq.queue(frontend, backend);              // runs until terminate()
  console.log(`broker: clients -> ${frontend.lastEndpoint}, workers -> ${backend.lastEndpoint}`);

  const served = new Map<string, number>();
  // Let both workers connect before the burst, or the first one takes every request.
  const connected = new Promise<void>((resolve) => { let n = 0; backend.events.on("handshake", () => { if (++n === 2) resolve(); }); });
  const reps = [new zmq.Reply(), new zmq.Reply()];
  for (const rep of reps) rep.connect(backend.lastEndpoint!);
  const workers = reps.map((rep, i) => worker(rep, `w${i + 1}`, served));
  await connected;

  const replies = await Promise.all(Array.from({ length: 6 }, (_, i) => client(i, frontend.lastEndpoint!)));
  for (const r of replies) console.log(`client got: ${r}`);
  console.log(`served per worker: ${[...served].map(([k, v]) => `${k}=${v}`).join(" ")}`);
  const stats = broker.statistics();
  console.log(`broker statistics: front received ${stats.frontEnd.messagesIn} frames, back received ${stats.backEnd.messagesIn} frames`);

  broker.terminate();                                        // closes frontend and backend
  await broker.done;                                         // run()'s promise: resolves once terminated
  for (const rep of reps) rep.close();
  await Promise.all(workers);
  console.log("broker: 6 requests routed");
}

main().catch((e) => { console.error(e); process.exit(1); });
