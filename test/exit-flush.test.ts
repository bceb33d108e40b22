/**
 * zeromq.js test context-process-exit: a socket never closed, with a message queued,
 * is flushed at exit (within its linger) instead of the message being lost.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as zmq from "../src/index.js";
import { within } from "./helpers/util.js";
import { tsCommand } from "./helpers/runtime.js";

const CHILD = fileURLToPath(new URL("./fixtures/exit-queued.ts", import.meta.url));

test("a message sent just before the script ends is delivered, and the process exits by itself", async () => {
  const pull = new zmq.Pull();
  try {
    await pull.bind("tcp://127.0.0.1:*");
    const child = spawn(...tsCommand(CHILD, pull.lastEndpoint!, "2000"), { stdio: "ignore" });
    const exited = new Promise<number | null>((r) => child.on("exit", r));
    try {
      const [msg] = await within(pull.receive(), 10_000, "the message from the exiting script");
      assert.equal(msg!.toString(), "sent just before the end");
      assert.equal(await within(exited, 10_000, "child exit"), 0);
    } finally {
      child.kill("SIGKILL");
    }
  } finally {
    pull.close();
  }
});

test("with no peer ever, linger bounds the wait and the warning is printed", async () => {
  const child = spawn(...tsCommand(CHILD, "tcp://127.0.0.1:1", "1200"), { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const exited = new Promise<number | null>((r) => child.on("exit", r));
  try {
    assert.equal(await within(exited, 10_000, "child exit after linger"), 0);
    assert.match(stderr, /Waiting for queued ZeroMQ messages to be delivered/);
  } finally {
    child.kill("SIGKILL");
  }
});
