/**
 * The cluster from the command line, as separate processes: `zmq-ts cluster start`
 * (controller + 1 engine, CURVE on), `zmq-ts engine` adds a second engine from the connection file,
 * a client runs a task on each, `cluster status` lists both, `cluster stop` ends every
 * process with exit 0.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "../../src/cluster/index.js";
import { cli, bounded, type Cli } from "./helpers.js";

test("cluster start, engine, status, stop: every process ends cleanly", { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "zmq-ts-cli-cluster-"));
  const file = join(dir, "cluster.json");
  const procs: Cli[] = [];
  let client: Client | undefined;
  try {
    const start = cli("cluster", "start", "-n", "1", "--file", file, "--module-root", process.cwd(), "--curve");
    procs.push(start);
    await start.waitStderr(/controller and engines 0 running/, 40_000);
    assert.ok(existsSync(file), "the connection file is written");
    assert.match(JSON.parse(readFileSync(file, "utf8")).curve?.server_key ?? "", /^.{40}$/, "--curve: the server's public key is in the file");

    const engine = cli("engine", "--file", file, "--module-root", process.cwd());
    procs.push(engine);
    await engine.waitStderr(/registered as engine 1 /, 40_000);

    client = await Client.connect(file, { timeout: 10_000, log: false });
    await client.waitForEngines(2, { timeout: 10_000 });
    const who = await client.view("all").apply<{ engineId: number }>("./test/cluster/fixtures/tasks.ts#whoami").get(20_000);
    assert.deepEqual(who.map((w) => w.engineId).sort(), [0, 1], `both engines answered: ${JSON.stringify(who)}`);
    await client.close();
    client = undefined;

    const status = cli("cluster", "status", "--file", file);
    procs.push(status);
    assert.equal(await status.exit(20_000), 0, status.stderr());
    assert.match(status.stdout(), /^cluster: 2 engine\(s\)/m);
    assert.match(status.stdout(), /^ {2}engine 0 /m);
    assert.match(status.stdout(), /^ {2}engine 1 /m);

    const stop = cli("cluster", "stop", "--file", file);
    procs.push(stop);
    assert.equal(await stop.exit(20_000), 0, stop.stderr());
    assert.equal(await start.exit(20_000), 0, start.stderr());
    assert.equal(await engine.exit(20_000), 0, engine.stderr());
    assert.match(engine.stderr(), /engine 1: stopping \(shut down by a client's request\)/);
  } finally {
    if (client) await bounded(client.close(), 5000, "client close").catch(() => {});
    for (const p of procs) p.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("cluster stop without a controller: exit 3 with the reason", { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "zmq-ts-cli-cluster-"));
  try {
    const stop = cli("cluster", "stop", "--file", join(dir, "missing.json"));
    assert.equal(await stop.exit(20_000), 3, stop.stderr());
    assert.match(stop.stderr(), /cannot read connection file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
