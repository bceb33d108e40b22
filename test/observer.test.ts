import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Observer, OBSERVER_QUEUE_LIMIT } from "../src/monitor/observer.js";
import {
  authError,
  errnoError,
  eventIds,
  eventTypes,
  protocolError,
  type Event,
  type EventOfType,
} from "../src/monitor/events.js";
import { tsCommand } from "./helpers/runtime.js";

const EMITTER_MODE =
  "Observer is in event emitter mode. After a call to events.on() it is not possible to read events with events.receive().";

const bind = (address: string): Event => ({ type: "bind", address });
const tick = () => new Promise((resolve) => setImmediate(resolve));

function isClosedError(err: unknown): boolean {
  assert.ok(err instanceof Error);
  assert.equal(err.message, "Socket is closed");
  assert.equal((err as { code?: string }).code, "EBADF");
  assert.equal(typeof (err as { errno?: number }).errno, "number");
  return true;
}

test("events emitted before anybody reads are queued, in order", async () => {
  const obs = new Observer();
  obs.emit(bind("tcp://a:1"));
  obs.emit({ type: "accept", address: "tcp://a:1" });
  obs.emit({ type: "connect:retry", address: "tcp://b:2", interval: 200 });
  assert.deepEqual(await obs.receive(), { type: "bind", address: "tcp://a:1" });
  assert.deepEqual(await obs.receive(), { type: "accept", address: "tcp://a:1" });
  assert.deepEqual(await obs.receive(), { type: "connect:retry", address: "tcp://b:2", interval: 200 });
  assert.equal(obs.closed, false);
});

test("pending receives are served in call order", async () => {
  const obs = new Observer();
  const a = obs.receive();
  const b = obs.receive();
  const c = obs.receive();
  obs.emit(bind("1"));
  obs.emit(bind("2"));
  obs.emit(bind("3"));
  assert.deepEqual(await Promise.all([a, b, c]), [bind("1"), bind("2"), bind("3")]);
});

test("the queue keeps the newest events", async () => {
  const obs = new Observer();
  for (let i = 0; i < OBSERVER_QUEUE_LIMIT + 5; i++) obs.emit(bind(String(i)));
  obs.end();
  const seen: Event[] = [];
  for await (const event of obs) seen.push(event);
  assert.equal(seen.length, OBSERVER_QUEUE_LIMIT);
  assert.deepEqual(seen[0], bind("6"));
  assert.deepEqual(seen.at(-1), { type: "end" });
});

test("end: delivered last, then closed; receive rejects EBADF", async () => {
  const obs = new Observer();
  obs.emit(bind("x"));
  obs.end();
  obs.emit(bind("after end is ignored"));
  assert.equal(obs.closed, false, "not closed before the end event is read");
  assert.deepEqual(await obs.receive(), bind("x"));
  assert.deepEqual(await obs.receive(), { type: "end" });
  assert.equal(obs.closed, true);
  await assert.rejects(obs.receive(), isClosedError);
  await assert.rejects(obs.receive(), isClosedError);
});

test("end with a pending receive resolves it and rejects the rest", async () => {
  const obs = new Observer();
  const first = obs.receive();
  const second = obs.receive();
  obs.end();
  assert.deepEqual(await first, { type: "end" });
  await assert.rejects(second, isClosedError);
  assert.equal(obs.closed, true);
});

test("close(): drops queued events, rejects pending receives, ignores later events", async () => {
  const obs = new Observer();
  const pending = obs.receive();
  obs.close();
  await assert.rejects(pending, isClosedError);
  assert.equal(obs.closed, true);
  obs.emit(bind("x"));
  obs.end();
  await assert.rejects(obs.receive(), isClosedError);
  obs.close(); // idempotent

  const queued = new Observer();
  queued.emit(bind("x"));
  queued.close();
  await assert.rejects(queued.receive(), isClosedError);
});

test("async iteration yields every event including end, then finishes", async () => {
  const obs = new Observer();
  const seen: Event[] = [];
  const done = (async () => {
    for await (const event of obs) seen.push(event);
  })();
  obs.emit(bind("a"));
  await tick();
  obs.emit({ type: "close", address: "a" });
  obs.end();
  await done;
  assert.deepEqual(seen, [bind("a"), { type: "close", address: "a" }, { type: "end" }]);
  // a new iteration over a closed observer ends at once
  for await (const _ of obs) assert.fail("no events after the end");
});

test("async iteration finishes when the observer is closed while waiting", async () => {
  const obs = new Observer();
  const seen: Event[] = [];
  const done = (async () => {
    for await (const event of obs) seen.push(event);
  })();
  obs.emit(bind("a"));
  await tick();
  obs.close();
  await done;
  assert.deepEqual(seen, [bind("a")]);
});

test("breaking out of iteration leaves the rest queued", async () => {
  const obs = new Observer();
  obs.emit(bind("1"));
  obs.emit(bind("2"));
  for await (const event of obs) {
    assert.deepEqual(event, bind("1"));
    break;
  }
  assert.deepEqual(await obs.receive(), bind("2"));
});

test("emitter mode: receive() throws synchronously", () => {
  const obs = new Observer();
  const result = obs.on("bind", () => {});
  assert.equal(result, obs, "on() chains");
  assert.throws(() => obs.receive(), (err: unknown) => {
    assert.ok(err instanceof Error);
    assert.equal(err.message, EMITTER_MODE);
    return true;
  });
  obs.close();
});

test("emitter mode: listeners get queued and later events asynchronously, by type", async () => {
  const obs = new Observer();
  obs.emit(bind("early"));
  const binds: EventOfType<"bind">[] = [];
  const retries: EventOfType<"connect:retry">[] = [];
  const ends: Event[] = [];
  obs.on("bind", (e) => binds.push(e)).on("connect:retry", (e) => retries.push(e)).on("end", (e) => ends.push(e));
  assert.deepEqual(binds, [], "never called synchronously from on()");
  obs.emit(bind("late"));
  assert.deepEqual(binds, [], "never called synchronously from emit()");
  obs.emit({ type: "connect:retry", address: "x", interval: 100 });
  obs.emit({ type: "accept", address: "nobody listens" });
  await tick();
  assert.deepEqual(binds, [bind("early"), bind("late")]);
  assert.deepEqual(retries, [{ type: "connect:retry", address: "x", interval: 100 }]);
  assert.equal(obs.closed, false);
  obs.end();
  await tick();
  assert.deepEqual(ends, [{ type: "end" }]);
  assert.equal(obs.closed, true);
});

test("emitter mode: off() removes a listener; off() alone also switches modes", async () => {
  const obs = new Observer();
  const seen: Event[] = [];
  const listener = (e: Event) => seen.push(e);
  obs.on("bind", listener);
  obs.emit(bind("1"));
  await tick();
  obs.off("bind", listener);
  obs.emit(bind("2"));
  await tick();
  assert.deepEqual(seen, [bind("1")]);
  obs.close();

  const other = new Observer();
  other.off("bind", listener);
  assert.throws(() => other.receive(), { message: EMITTER_MODE });
  other.close();
});

test("emitter mode: pending receives are rejected when listeners take over", async () => {
  const obs = new Observer();
  const pending = obs.receive();
  obs.on("bind", () => {});
  await assert.rejects(pending, { message: EMITTER_MODE });
  obs.close();
});

test("event error factories have zeromq.js's own properties", () => {
  const bindErr = errnoError("EADDRINUSE");
  assert.ok(bindErr instanceof Error);
  assert.equal(bindErr.message, "Address already in use");
  assert.equal(bindErr.code, "EADDRINUSE");
  assert.equal(bindErr.errno, 98);
  assert.deepEqual(Object.keys(bindErr).sort(), ["code", "errno"]);

  const proto = protocolError("ERR_ZMTP_MECHANISM_MISMATCH");
  assert.equal(proto.message, "ZMTP protocol error");
  assert.equal(proto.code, "ERR_ZMTP_MECHANISM_MISMATCH");
  assert.deepEqual(Object.keys(proto), ["code"]);
  assert.equal(protocolError("ERR_ZAP_BAD_VERSION").message, "ZAP protocol error");

  const auth = authError(400);
  assert.equal(auth.message, "Authentication failure");
  assert.equal(auth.status, 400);
  assert.deepEqual(Object.keys(auth), ["status"]);
  assert.equal(authError(300).message, "Temporary error");
  assert.equal(authError(500).message, "Internal error");
});

test("every event type has a libzmq event number", () => {
  assert.equal(eventTypes.length, 16);
  assert.equal(eventIds.end, 0x400);
  assert.equal(eventIds.bind, 0x8);
  assert.equal(eventTypes[0], "connect");
  assert.equal(eventTypes.at(-1), "unknown");
});

// ---------------------------------------------------------------------------
// Process lifetime (zeromq.js: reading events keeps the process alive; an unread
// observer does not; closing while reading lets the process exit).

const root = fileURLToPath(new URL("..", import.meta.url));

/** Runs `body` in a child process; `timeout` ms later it is killed (SIGTERM) if still alive. */
function runChild(body: string, timeout = 10_000): { status: number | null; signal: NodeJS.Signals | null; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), "zmq-ts-observer-"));
  const file = join(dir, "child.mts");
  const observerUrl = new URL("../src/monitor/observer.ts", import.meta.url).href;
  writeFileSync(file, `import { Observer } from ${JSON.stringify(observerUrl)};\n${body}\n`);
  try {
    const res = spawnSync(...tsCommand(file), { cwd: root, timeout, encoding: "utf8" });
    return { status: res.status, signal: res.signal, stderr: res.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("process exits with an observer nobody reads", () => {
  const res = runChild(`const obs = new Observer(); obs.emit({ type: "bind", address: "x" });`);
  assert.equal(res.status, 0, res.stderr);
});

test("process stays alive while iterating events", () => {
  const res = runChild(`const obs = new Observer(); for await (const e of obs) console.log(e.type);`, 1500);
  assert.equal(res.signal, "SIGTERM", "killed by the timeout");
});

test("process stays alive in emitter mode until the end", () => {
  const res = runChild(`const obs = new Observer(); obs.on("bind", () => {});`, 1500);
  assert.equal(res.signal, "SIGTERM", "killed by the timeout");
  const ended = runChild(`const obs = new Observer(); obs.on("end", () => console.log("end")); setTimeout(() => obs.end(), 50);`);
  assert.equal(ended.status, 0, ended.stderr);
});

test("process exits when the observer ends while being read", () => {
  const res = runChild(
    `const obs = new Observer();\n` +
      `(async () => { for await (const e of obs) {} })();\n` +
      `setTimeout(() => obs.end(), 50);`,
  );
  assert.equal(res.status, 0, res.stderr);
  const closed = runChild(`const obs = new Observer(); obs.receive().catch(() => {}); setTimeout(() => obs.close(), 50);`);
  assert.equal(closed.status, 0, closed.stderr);
});
