// Runtime-neutral smoke test of the BUILT package (dist/src/index.js).
// Plain JS, no tsx, no node:test: runs as-is under Node 20/22, Bun and Deno (`deno run -A`).
// One line per check, then "N passed, M failed"; exit 0 on success, 1 on any failure.
// Every wait is bounded (per-check timeout + a global watchdog), so it ends within ~15 s.
import process from "node:process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import * as zmq from "../../dist/src/index.js";

const CHECK_TIMEOUT_MS = 4000;
const WATCHDOG_MS = 15000;

const runtime =
  typeof globalThis.Deno !== "undefined" ? `deno ${globalThis.Deno.version.deno}` :
  typeof globalThis.Bun !== "undefined" ? `bun ${globalThis.Bun.version}` :
  `node ${process.versions.node}`;

const watchdog = setTimeout(() => {
  console.log(`FAIL watchdog: smoke test still running after ${WATCHDOG_MS} ms (${runtime})`);
  process.exit(1);
}, WATCHDOG_MS);

let passed = 0;
let failed = 0;
const open = new Set();
const dir = mkdtempSync(join(tmpdir(), "zmq-ts-smoke-"));

/** Track a socket so it is closed after its check, whatever happens. */
function track(sock) {
  open.add(sock);
  return sock;
}
function closeAll() {
  for (const s of open) {
    try { s.close(); } catch { /* already closed */ }
  }
  open.clear();
}

function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}
function eqBuf(a, b, what) {
  assert(Buffer.isBuffer(a) || a instanceof Uint8Array, `${what}: not bytes (${typeof a})`);
  assert(Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0, `${what}: got ${JSON.stringify(String(a).slice(0, 40))}, want ${JSON.stringify(String(b).slice(0, 40))}`);
}

function withTimeout(promise, ms, what) {
  let t;
  return Promise.race([
    promise.finally(() => clearTimeout(t)),
    new Promise((_, reject) => { t = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms); }),
  ]);
}

async function check(name, fn) {
  const start = Date.now();
  try {
    await withTimeout(Promise.resolve().then(fn), CHECK_TIMEOUT_MS, name);
    passed++;
    console.log(`ok   ${name} (${Date.now() - start} ms)`);
  } catch (e) {
    failed++;
    const msg = e && e.stack ? String(e.stack).split("\n").slice(0, 4).join("\n       ") : String(e);
    console.log(`FAIL ${name}: ${msg}`);
  } finally {
    closeAll();
  }
}

/** An informational probe: reported, never counted as a failure. */
async function probe(name, fn) {
  try {
    const r = await withTimeout(Promise.resolve().then(fn), CHECK_TIMEOUT_MS, name);
    console.log(`info ${name}: ${r}`);
  } catch (e) {
    console.log(`info ${name}: unavailable (${e && e.code ? e.code + ": " : ""}${e && e.message ? e.message : e})`);
  } finally {
    closeAll();
  }
}

// Options per direction: like zeromq.js v6, a socket rejects options its type does not have
// (a Pull has no sendTimeout, a Publisher no receiveTimeout).
const opts = { linger: 0, receiveTimeout: 3000, sendTimeout: 3000 };
const sendOnly = { linger: 0, sendTimeout: 3000 };
const recvOnly = { linger: 0, receiveTimeout: 3000 };

console.log(`runtime: ${runtime} (${process.platform}-${process.arch})`);

await check("capability is a frozen record of booleans", () => {
  const cap = zmq.capability;
  assert(cap && typeof cap === "object", "capability exists");
  assert(Object.values(cap).every((v) => typeof v === "boolean"), "all booleans");
  console.log(`     capability = ${JSON.stringify(cap)}`);
});

await check("PAIR over tcp", async () => {
  const a = track(new zmq.Pair(opts));
  const b = track(new zmq.Pair(opts));
  await a.bind("tcp://127.0.0.1:*");
  assert(/^tcp:\/\/127\.0\.0\.1:\d+$/.test(a.lastEndpoint), `lastEndpoint ${a.lastEndpoint}`);
  b.connect(a.lastEndpoint);
  await b.send("ping");
  const [m1] = await a.receive();
  eqBuf(m1, "ping", "a got");
  await a.send("pong");
  const [m2] = await b.receive();
  eqBuf(m2, "pong", "b got");
});

await check("PUSH/PULL over ipc", async () => {
  if (!zmq.capability.ipc) { console.log("     (skipped: capability.ipc is false)"); return; }
  const pull = track(new zmq.Pull(recvOnly));
  const push = track(new zmq.Push(sendOnly));
  const endpoint = `ipc://${join(dir, "pushpull.sock")}`;
  await pull.bind(endpoint);
  push.connect(endpoint);
  for (let i = 0; i < 10; i++) await push.send(`msg ${i}`);
  for (let i = 0; i < 10; i++) {
    const [m] = await pull.receive();
    eqBuf(m, `msg ${i}`, `message ${i}`);
  }
});

await check("DEALER/ROUTER over inproc with routing ids", async () => {
  const router = track(new zmq.Router(opts));
  const d1 = track(new zmq.Dealer({ ...opts, routingId: "alice" }));
  const d2 = track(new zmq.Dealer({ ...opts, routingId: "bob" }));
  // A second router connecting out names its peer with connect(addr, { routingId }).
  const r2 = track(new zmq.Router(opts));
  await router.bind("inproc://smoke-router");
  await d2.bind("inproc://smoke-dealer-bob");
  d1.connect("inproc://smoke-router");
  d2.connect("inproc://smoke-router");
  r2.connect("inproc://smoke-dealer-bob", { routingId: "bob-from-r2" });
  await d1.send("from alice");
  await d2.send("from bob");
  const got = new Map();
  for (let i = 0; i < 2; i++) {
    const [id, body] = await router.receive();
    got.set(id.toString(), body.toString());
  }
  assert(got.get("alice") === "from alice", `alice: ${got.get("alice")}`);
  assert(got.get("bob") === "from bob", `bob: ${got.get("bob")}`);
  await router.send(["bob", "hi bob"]);
  await router.send(["alice", "hi alice"]);
  eqBuf((await d2.receive())[0], "hi bob", "bob reply");
  eqBuf((await d1.receive())[0], "hi alice", "alice reply");
  await r2.send(["bob-from-r2", "via connect routingId"]);
  eqBuf((await d2.receive())[0], "via connect routingId", "connect routingId");
});

await check("PUB/SUB with a subscription (tcp)", async () => {
  const pub = track(new zmq.Publisher(sendOnly));
  const sub = track(new zmq.Subscriber(recvOnly));
  await pub.bind("tcp://127.0.0.1:*");
  sub.connect(pub.lastEndpoint);
  sub.subscribe("weather");
  // Slow joiner: publish until the subscription has arrived, bounded.
  const received = sub.receive();
  let done = false;
  received.then(() => { done = true; }, () => { done = true; });
  for (let i = 0; i < 200 && !done; i++) {
    await pub.send(["news", "ignored"]);
    await pub.send(["weather", "sunny"]);
    await new Promise((r) => setTimeout(r, 10));
  }
  const [topic, body] = await received;
  eqBuf(topic, "weather", "topic");
  eqBuf(body, "sunny", "body");
});

await check("REQ/REP (tcp)", async () => {
  const rep = track(new zmq.Reply(opts));
  const req = track(new zmq.Request(opts));
  await rep.bind("tcp://127.0.0.1:*");
  req.connect(rep.lastEndpoint);
  for (let i = 0; i < 3; i++) {
    await req.send(`question ${i}`);
    const [q] = await rep.receive();
    eqBuf(q, `question ${i}`, "request");
    await rep.send(`answer ${i}`);
    const [a] = await req.receive();
    eqBuf(a, `answer ${i}`, "reply");
  }
});

await check("CURVE Pair with curveKeyPair() keys (tcp)", async () => {
  const server = zmq.curveKeyPair();
  const client = zmq.curveKeyPair();
  assert(server.publicKey.length === 40 && server.secretKey.length === 40, "z85 keys are 40 chars");
  assert(zmq.publicKeyFromSecret(server.secretKey) === server.publicKey, "publicKeyFromSecret matches");
  const a = track(new zmq.Pair({ ...opts, curveServer: true, curveSecretKey: server.secretKey }));
  const b = track(new zmq.Pair({ ...opts, curveServerKey: server.publicKey, curvePublicKey: client.publicKey, curveSecretKey: client.secretKey }));
  await a.bind("tcp://127.0.0.1:*");
  b.connect(a.lastEndpoint);
  await b.send("secret hello");
  eqBuf((await a.receive())[0], "secret hello", "server got");
  await a.send("secret reply");
  eqBuf((await b.receive())[0], "secret reply", "client got");
});

await check("multipart message with a 1 MiB frame (tcp)", async () => {
  const a = track(new zmq.Pair(opts));
  const b = track(new zmq.Pair(opts));
  await a.bind("tcp://127.0.0.1:*");
  b.connect(a.lastEndpoint);
  const big = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
  await b.send(["head", big, Buffer.alloc(0), "tail"]);
  const frames = await a.receive();
  assert(frames.length === 4, `4 frames, got ${frames.length}`);
  eqBuf(frames[0], "head", "frame 0");
  assert(frames[1].length === big.length, `frame 1 length ${frames[1].length}`);
  eqBuf(frames[1], big, "frame 1 (1 MiB)");
  assert(frames[2].length === 0, "frame 2 empty");
  eqBuf(frames[3], "tail", "frame 3");
});

await check("sendArray/receiveArray of a Float64Array (tcp)", async () => {
  const a = track(new zmq.Pair(opts));
  const b = track(new zmq.Pair(opts));
  await a.bind("tcp://127.0.0.1:*");
  b.connect(a.lastEndpoint);
  const data = Float64Array.from({ length: 12 }, (_, i) => i * 1.5 - 3);
  await zmq.sendArray(b, { data, shape: [3, 4] });
  const got = await zmq.receiveArray(a);
  assert(got.dtype === "float64", `dtype ${got.dtype}`);
  assert(JSON.stringify(got.shape) === "[3,4]", `shape ${JSON.stringify(got.shape)}`);
  assert(got.array instanceof Float64Array, "is a Float64Array");
  assert(got.array.length === 12 && got.array.every((v, i) => v === data[i]), `values ${Array.from(got.array)}`);
});

// Informational: abstract-namespace ipc (Linux only; not part of capability today).
await probe("abstract ipc (ipc://@name)", async () => {
  const pull = track(new zmq.Pull(recvOnly));
  const push = track(new zmq.Push(sendOnly));
  const endpoint = `ipc://@zmq-ts-smoke-${process.pid}-${Date.now()}`;
  await pull.bind(endpoint);
  push.connect(endpoint);
  await push.send("abstract");
  const [m] = await pull.receive();
  eqBuf(m, "abstract", "abstract message");
  return "works";
});

try { rmSync(dir, { recursive: true, force: true }); } catch { /* ignore */ }
clearTimeout(watchdog);
console.log(`${passed} passed, ${failed} failed`);
// Exit explicitly: a runtime that keeps a handle alive must not turn success into a hang.
process.exit(failed === 0 ? 0 : 1);
