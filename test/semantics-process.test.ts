/**
 * Process lifetime (zeromq.js's child-process tests) and the errors zeromq.js users
 * match on (zeromq.js socket-construction / bind-unbind / connect tests).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import * as zmq from "../src/index.js";
import { within } from "./helpers/util.js";
import { tsCommand } from "./helpers/runtime.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const fixture = join(here, "fixtures", "lifetime.ts");

interface Run {
  child: ChildProcess;
  ready: Promise<void>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

function run(scenario: string): Run {
  const child = spawn(...tsCommand(fixture, scenario), {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("exit", (code, signal) => resolve({ code, signal }));
  });
  const ready = new Promise<void>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("ready")) resolve();
    });
    // 'close', not 'exit': a child that prints "ready" and exits at once can be reported
    // exited before its last stdout bytes have been read.
    child.on("close", () => (out.includes("ready") ? resolve() : reject(new Error(`${scenario}: exited before ready; stderr: ${err}`))));
  });
  return { child, ready, exit, stderr: () => err };
}

function kill(r: Run): void {
  if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill("SIGKILL");
}

describe("process lifetime (zeromq.js test/unit/socket-process-exit-test, run in child processes)", { concurrency: 4 }, () => {
  // Started together so that the tsx start-up cost is paid once, in parallel.
  const exitsByItself = [
    "created", "created-custom-context", "closed", "bound-not-closed", "publisher-send-close", "events-iterating-closed",
    "unsent-linger-short", "unsent-linger-0", "protocol-error-linger",
  ];
  const staysAlive = ["blocked-send", "events-iterating"];

  for (const scenario of exitsByItself) {
    test(`exits by itself: ${scenario}`, async () => {
      const r = run(scenario);
      try {
        await within(r.ready, 15_000, `${scenario} ready`);
        const { code, signal } = await within(r.exit, 3000, `${scenario} to exit by itself`);
        assert.equal(signal, null);
        assert.equal(code, 0, `exit code (stderr: ${r.stderr()})`);
        assert.equal(r.stderr(), "", "no stderr output");
      } finally {
        kill(r);
      }
    });
  }

  for (const scenario of staysAlive) {
    test(`stays alive: ${scenario} (still running 500 ms after setup, then killed)`, async () => {
      const r = run(scenario);
      try {
        await within(r.ready, 15_000, `${scenario} ready`);
        await sleep(500);
        assert.equal(r.child.exitCode, null, `process exited early (stderr: ${r.stderr()})`);
        assert.equal(r.child.signalCode, null);
      } finally {
        kill(r);
        await within(r.exit, 2000, "killed child to go");
      }
    });
  }
});

describe("errors zeromq.js users match on", () => {
  test("new Socket(37) -> Error 'Invalid argument', code EINVAL, errno 22", () => {
    assert.throws(() => new zmq.Socket(37), (e: unknown) => {
      const err = e as zmq.ZmqError;
      assert.ok(err instanceof Error);
      assert.equal(err.message, "Invalid argument");
      assert.equal(err.code, "EINVAL");
      assert.equal(err.errno, 22);
      return true;
    });
  });

  test("new Socket() and new Socket('foo') -> TypeError 'Socket type must be a number'", () => {
    assert.throws(() => Reflect.construct(zmq.Socket, []), { name: "TypeError", message: "Socket type must be a number" });
    assert.throws(() => Reflect.construct(zmq.Socket, ["foo"]), { name: "TypeError", message: "Socket type must be a number" });
    assert.throws(() => Reflect.construct(zmq.Socket, [1, {}, 2]), { name: "TypeError", message: "Expected 2 arguments" });
    assert.throws(() => Reflect.construct(zmq.Socket, [3, 1]), { name: "TypeError", message: "Options must be an object" });
  });

  test("send and receive on a closed socket -> 'Socket is closed', EBADF", async () => {
    const d = new zmq.Dealer();
    d.close();
    await assert.rejects(d.send("x"), { code: "EBADF", errno: 9, message: "Socket is closed" });
    await assert.rejects(d.receive(), { code: "EBADF", errno: 9, message: "Socket is closed" });
    assert.throws(() => d.connect("tcp://127.0.0.1:5555"), { code: "EBADF" });
    await assert.rejects(d.bind("tcp://127.0.0.1:*"), { code: "EBADF" });
  });

  test("connect('tcp://127.0.0.1') (no port) -> EINVAL with address", () => {
    const d = new zmq.Dealer();
    try {
      assert.throws(() => d.connect("tcp://127.0.0.1"), { code: "EINVAL", errno: 22, message: "Invalid argument", address: "tcp://127.0.0.1" });
      assert.throws(() => d.connect("foo-bar"), { code: "EINVAL", address: "foo-bar" });
      assert.throws(() => d.connect("foo://bar"), { code: "EPROTONOSUPPORT", message: "Protocol not supported", address: "foo://bar" });
    } finally {
      d.close();
    }
  });

  test("unbind / disconnect of an unknown endpoint -> 'No such endpoint', ENOENT with address", async () => {
    const d = new zmq.Dealer();
    try {
      await assert.rejects(d.unbind("tcp://127.0.0.1:5555"), { code: "ENOENT", errno: 2, message: "No such endpoint", address: "tcp://127.0.0.1:5555" });
      assert.throws(() => d.disconnect("tcp://127.0.0.1:5555"), { code: "ENOENT", address: "tcp://127.0.0.1:5555" });
      await assert.rejects(d.bind("foo://bar"), { code: "EPROTONOSUPPORT", address: "foo://bar" });
    } finally {
      d.close();
    }
  });

  test("a second bind while one is pending -> EBUSY 'Socket is blocked by a bind or unbind operation'", async () => {
    const d = new zmq.Dealer();
    try {
      const first = d.bind("tcp://127.0.0.1:*");
      await assert.rejects(d.bind("tcp://127.0.0.1:*"), { code: "EBUSY", message: "Socket is blocked by a bind or unbind operation" });
      await within(first, 2000, "first bind");
    } finally {
      d.close();
    }
  });
});
