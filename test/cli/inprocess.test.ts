/** The CLI's dispatcher run in this process (cheap): help for every command, usage errors, keygen --json. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { run, commands } from "../../src/cli/run.js";

async function capture(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const ow = process.stdout.write;
  const ew = process.stderr.write;
  let stdout = "";
  let stderr = "";
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  try {
    const code = await run(args);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
}

const NAMES = ["send", "recv", "pub", "sub", "req", "rep", "proxy", "queue", "monitored-queue", "monitor", "keygen", "bench", "cluster", "engine"];

test("--help for every command", async () => {
  assert.deepEqual(Object.keys(commands).sort(), [...NAMES].sort());
  const main = await capture(["--help"]);
  assert.equal(main.code, 0);
  for (const n of NAMES) assert.match(main.stdout, new RegExp(`^  ${n} `, "m"));
  for (const n of NAMES) {
    for (const flag of ["--help", "-h"]) {
      const r = await capture([n, flag]);
      assert.equal(r.code, 0, `${n} ${flag}`);
      assert.match(r.stdout, new RegExp(`^Usage: zmq-ts ${n}`));
      assert.match(r.stdout, /--json/);
      assert.match(r.stdout, /Exit codes: 0 ok, 1 usage error, 2 timeout, 3 connection or protocol error/);
    }
  }
  assert.equal((await capture(["help", "send"])).stdout, (await capture(["send", "--help"])).stdout);
});

test("usage errors return 1 and say why on stderr", async () => {
  const cases: string[][] = [
    [],
    ["frobnicate"],
    ["send", "--bogus"],
    ["send", "--connect", "tcp://127.0.0.1:1"],
    ["send", "--type", "sub", "--connect", "tcp://127.0.0.1:1", "x"],
    ["recv", "--type", "nosuch", "--bind", "tcp://127.0.0.1:*"],
    ["recv", "--count", "abc", "--bind", "tcp://127.0.0.1:*"],
    ["recv", "--timeout", "-5", "--bind", "tcp://127.0.0.1:*"],
    ["recv", "--type", "push", "--bind", "tcp://127.0.0.1:*"],
    ["req", "hello"],
    ["pub", "--bind", "tcp://127.0.0.1:*"],
    ["send", "--hex", "xyz", "--connect", "tcp://127.0.0.1:1"],
    ["req", "--connect", "tcp://127.0.0.1:1", "x", "--curve-server-key", "short"],
    ["rep", "--bind", "tcp://127.0.0.1:*", "--curve-server"],
    ["proxy", "--frontend", "tcp://127.0.0.1:*"],
    ["proxy", "--device", "nosuch", "--frontend", "tcp://127.0.0.1:*", "--backend", "tcp://127.0.0.1:*"],
    ["monitored-queue", "--frontend", "tcp://127.0.0.1:*", "--backend", "tcp://127.0.0.1:*"],
    ["monitor", "--connect", "tcp://127.0.0.1:1"],
    ["keygen", "extra"],
    ["keygen", "--cert", "/tmp"],
  ];
  for (const args of cases) {
    const r = await capture(args);
    assert.equal(r.code, 1, `zmq-ts ${args.join(" ")}: ${r.stderr}`);
    assert.ok(r.stderr.length > 0 || r.stdout.length > 0, args.join(" "));
  }
  const j = await capture(["recv", "--json", "--count", "x", "--bind", "tcp://127.0.0.1:*"]);
  assert.deepEqual({ ...JSON.parse(j.stderr), message: "" }, { type: "error", exitCode: 1, message: "" });
});

test("keygen --json in process", async () => {
  const r = await capture(["keygen", "--json"]);
  assert.equal(r.code, 0);
  const k = JSON.parse(r.stdout);
  assert.equal(k.publicKey.length, 40);
  assert.equal(k.secretKey.length, 40);
});

test("a Z85 key or password that starts with '-' is taken as the option's value", async () => {
  const { parse, SECURITY_OPTIONS } = await import("../../src/cli/common.js");
  const key = "-" + "a".repeat(39);
  const { values, positionals } = parse(["--curve-server-key", key, "--plain-password", "-secret", "payload"], SECURITY_OPTIONS);
  assert.equal(values["curve-server-key"], key);
  assert.equal(values["plain-password"], "-secret");
  assert.deepEqual(positionals, ["payload"]);
  // Other options keep parseArgs' rules: a dash after a string option is still ambiguous.
  assert.throws(() => parse(["--plain-user", "-x"], SECURITY_OPTIONS), /ambiguous/);
});
