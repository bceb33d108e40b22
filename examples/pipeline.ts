/**
 * Pipeline (the Guide's "divide and conquer"): a ventilator PUSHes tasks to workers,
 * the workers PUSH results to a sink. Ventilator and sink bind; workers connect, so
 * workers can come and go.
 *
 * The gotcha: PUSH load-balances only over peers connected *at that moment*. If the
 * ventilator starts before the workers are connected the first worker gets
 * everything. So the ventilator waits for the workers (here: by counting handshakes;
 * the Guide waits for the user to press Enter).
 * Run: node --import tsx examples/pipeline.ts
 */
import * as zmq from "../src/index.js";

const WORKERS = 3;
const TASKS = 30;

async function worker(id: number, tasksFrom: string, resultsTo: string): Promise<void> {
  const pull = new zmq.Pull();
  const push = new zmq.Push();
  pull.connect(tasksFrom);
  push.connect(resultsTo);
  for await (const [task] of pull) {
    if (task!.length === 0) break;                          // empty task: stop
    const ms = Number(task!.toString());
    await new Promise((r) => setTimeout(r, ms));            // "work"
    await push.send([String(id), String(ms)]);
  }
  pull.close();
  push.close();
}

async function main(): Promise<void> {
  const ventilator = new zmq.Push();
  const sink = new zmq.Pull();
  await ventilator.bind("tcp://127.0.0.1:*");
  await sink.bind("tcp://127.0.0.1:*");

  let ready = 0;
  const allConnected = new Promise<void>((resolve) =>
    ventilator.events.on("handshake", () => { if (++ready === WORKERS) resolve(); }));
  const workers = Array.from({ length: WORKERS }, (_, i) => worker(i, ventilator.lastEndpoint!, sink.lastEndpoint!));
  await allConnected;
  console.log(`ventilator: ${WORKERS} workers connected, sending ${TASKS} tasks`);

  const started = Date.now();
  let expected = 0;
  for (let i = 0; i < TASKS; i++) {
    const ms = 1 + (i % 10);
    expected += ms;
    await ventilator.send(String(ms));
  }

  const perWorker = new Array<number>(WORKERS).fill(0);
  let total = 0;
  for (let i = 0; i < TASKS; i++) {
    const [id, ms] = await sink.receive();
    perWorker[Number(id!.toString())]!++;
    total += Number(ms!.toString());
  }
  const elapsed = Date.now() - started;
  console.log(`sink: ${TASKS} results, ${total} ms of work (expected ${expected}) in ${elapsed} ms wall time`);
  console.log(`tasks per worker: [${perWorker.join(", ")}] (round-robin over connected workers)`);

  for (let i = 0; i < WORKERS; i++) await ventilator.send("");   // one stop signal each
  await Promise.all(workers);
  ventilator.close();
  sink.close();
  console.log("pipeline: done");
}

main().catch((e) => { console.error(e); process.exit(1); });
