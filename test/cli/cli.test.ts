import { describe, test as nodeTest } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pull, Push, Publisher, Reply, z85Decode, loadCertificate, curveKeyPair } from "../../src/index.js";
import { cli, boundEndpoint, bounded, type Cli } from "./helpers.js";

const Z85_KEY = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;

const tests: Array<[string, () => Promise<void>]> = [];
const test = (name: string, fn: () => Promise<void>) => void tests.push([name, fn]);

async function killAll(...procs: Array<Cli | undefined>): Promise<void> {
  for (const p of procs) p?.kill();
}

test("rep + req round trip between two CLI processes", async () => {
  let rep: Cli | undefined;
  let req: Cli | undefined;
  try {
    rep = cli("rep", "--bind", "tcp://127.0.0.1:*", "--count", "1", "--timeout", "8000");
    const ep = await boundEndpoint(rep);
    req = cli("req", "--connect", ep, "hello", "world", "--timeout", "8000", "--json");
    assert.equal(await req.exit(10000), 0, req.stderr());
    assert.deepEqual(JSON.parse(req.stdout().trim()), { type: "message", frames: ["hello", "world"], encoding: "utf8" });
    assert.equal(await rep.exit(10000), 0, rep.stderr());
    assert.equal(rep.stdout(), "hello\tworld\n");
  } finally {
    await killAll(rep, req);
  }
});

test("pub + sub with a topic", async () => {
  let pub: Cli | undefined;
  let sub: Cli | undefined;
  try {
    pub = cli("pub", "--bind", "tcp://127.0.0.1:*", "weather", "sunny", "--interval", "50", "--count", "200");
    const ep = await boundEndpoint(pub);
    sub = cli("sub", "--connect", ep, "--topic", "wea", "--count", "2", "--timeout", "8000", "--json");
    assert.equal(await sub.exit(10000), 0, sub.stderr());
    const lines = sub.stdout().trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.length, 2);
    for (const l of lines) assert.deepEqual(l, { type: "message", frames: ["weather", "sunny"], encoding: "utf8" });
  } finally {
    await killAll(pub, sub);
  }
});

test("sub with a topic that does not match times out with exit 2", async () => {
  const pub = new Publisher({ linger: 0 });
  let sub: Cli | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    await pub.bind("tcp://127.0.0.1:*");
    timer = setInterval(() => void pub.send(["weather", "sunny"]).catch(() => {}), 50);
    sub = cli("sub", "--connect", pub.lastEndpoint!, "--topic", "sport", "--count", "1", "--timeout", "800");
    assert.equal(await sub.exit(8000), 2);
    assert.equal(sub.stdout(), "");
  } finally {
    clearInterval(timer);
    sub?.kill();
    pub.close();
  }
});

test("send --type push --connect into recv --type pull --bind, --json output", async () => {
  let recv: Cli | undefined;
  let send: Cli | undefined;
  try {
    recv = cli("recv", "--type", "pull", "--bind", "tcp://127.0.0.1:*", "--json", "--count", "2", "--timeout", "8000");
    const ep = await (async () => JSON.parse((await recv!.waitStderr(/\{"type":"bound"[^\n]*\}/, 8000))[0]).endpoint as string)();
    send = cli("send", "--type", "push", "--connect", ep, "--part", "a", "--part", "b", "--count", "2", "--timeout", "8000");
    assert.equal(await send.exit(10000), 0, send.stderr());
    assert.equal(await recv.exit(10000), 0, recv.stderr());
    const lines = recv.stdout().trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines, [
      { type: "message", frames: ["a", "b"], encoding: "utf8" },
      { type: "message", frames: ["a", "b"], encoding: "utf8" },
    ]);
  } finally {
    await killAll(recv, send);
  }
});

test("send with a separator into our own Pull socket; recv from our own Push", async () => {
  const pull = new Pull({ linger: 0, receiveTimeout: 8000 });
  const push = new Push({ linger: 0, sendTimeout: 8000 });
  let send: Cli | undefined;
  let recv: Cli | undefined;
  try {
    await pull.bind("tcp://127.0.0.1:*");
    send = cli("send", "--connect", pull.lastEndpoint!, "x|y|z", "--separator", "|");
    assert.deepEqual((await pull.receive()).map(String), ["x", "y", "z"]);
    assert.equal(await send.exit(8000), 0, send.stderr());

    await push.bind("tcp://127.0.0.1:*");
    recv = cli("recv", "--connect", push.lastEndpoint!, "--count", "2", "--timeout", "8000", "--json");
    await push.send([Buffer.from("hi"), Buffer.from([1, 2])]);
    await push.send("text");
    assert.equal(await recv.exit(8000), 0, recv.stderr());
    assert.deepEqual(recv.stdout().trim().split("\n").map((l) => JSON.parse(l)), [
      { type: "message", frames: ["6869", "0102"], encoding: "hex" },
      { type: "message", frames: ["text"], encoding: "utf8" },
    ]);
  } finally {
    await killAll(send, recv);
    pull.close();
    push.close();
  }
});

test("req against our own Reply socket; rep --count answered by the CLI", async () => {
  const rep = new Reply({ linger: 0, receiveTimeout: 8000 });
  let req: Cli | undefined;
  try {
    await rep.bind("tcp://127.0.0.1:*");
    req = cli("req", "--connect", rep.lastEndpoint!, "ping", "--timeout", "8000");
    const msg = await rep.receive();
    assert.deepEqual(msg.map(String), ["ping"]);
    await rep.send("pong");
    assert.equal(await req.exit(8000), 0, req.stderr());
    assert.equal(req.stdout(), "pong\n");
  } finally {
    await killAll(req);
    rep.close();
  }
});

test("keygen prints two 40-character Z85 keys; --cert writes certificate files", async () => {
  const dir = mkdtempSync(join(tmpdir(), "zmq-ts-cli-"));
  const procs: Cli[] = [];
  try {
    const text = cli("keygen");
    procs.push(text);
    assert.equal(await text.exit(8000), 0, text.stderr());
    const m = text.stdout().match(/^public-key: (\S{40})\nsecret-key: (\S{40})\n$/);
    assert.ok(m, text.stdout());
    assert.match(m[1]!, Z85_KEY);
    assert.match(m[2]!, Z85_KEY);
    assert.equal(z85Decode(m[1]!).length, 32);

    const certDir = join(dir, "certs");
    const cert = cli("keygen", "--cert", certDir, "server", "--json", "--metadata", "role=test");
    procs.push(cert);
    assert.equal(await cert.exit(8000), 0, cert.stderr());
    const c = JSON.parse(cert.stdout());
    assert.equal(c.publicFile, join(certDir, "server.key"));
    assert.equal(c.secretFile, join(certDir, "server.key_secret"));
    assert.ok(existsSync(c.publicFile) && existsSync(c.secretFile));
    assert.equal(statSync(c.secretFile).mode & 0o777, 0o600);
    const loaded = loadCertificate(c.secretFile);
    assert.equal(loaded.publicKey, c.publicKey);
    assert.equal(loaded.secretKey, c.secretKey);
    assert.equal(loaded.metadata.role, "test");
    assert.match(readFileSync(c.publicFile, "utf8"), /public-key = "/);

  } finally {
    for (const p of procs) p.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("CURVE: req with the server's public key (from a certificate file) gets through; a wrong key exits 3", async () => {
  const procs: Cli[] = [];
  const dir = mkdtempSync(join(tmpdir(), "zmq-ts-cli-"));
  const server = curveKeyPair();
  const rep = new Reply({ linger: 0, curveServer: true, curveSecretKey: server.secretKey, curvePublicKey: server.publicKey });
  try {
    await rep.bind("tcp://127.0.0.1:*");
    const ep = rep.lastEndpoint!;
    const serving = (async () => {
      for (;;) {
        const msg = await rep.receive();
        await rep.send(msg);
      }
    })().catch(() => {});
    void serving;
    const keys = cli("keygen", "--cert", dir, "server", "--json");
    procs.push(keys);
    assert.equal(await keys.exit(8000), 0);
    const good = cli("req", "--connect", ep, "secret", "--curve-server-key", server.publicKey, "--curve-secret-key", JSON.parse(keys.stdout()).secretFile, "--timeout", "8000");
    procs.push(good);
    const wrong = cli("req", "--connect", ep, "secret", "--curve-server-key", JSON.parse(keys.stdout()).publicKey, "--timeout", "8000");
    procs.push(wrong);
    assert.equal(await good.exit(10000), 0, good.stderr());
    assert.equal(good.stdout(), "secret\n");
    assert.equal(await wrong.exit(10000), 3, wrong.stderr());
    assert.match(wrong.stderr(), /handshake/);
  } finally {
    for (const p of procs) p.kill();
    rep.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("streamer proxy between two endpoints carries a message", async () => {
  const procs: Cli[] = [];
  try {
    const proxy = cli("proxy", "--device", "streamer", "--frontend", "tcp://127.0.0.1:*", "--backend", "tcp://127.0.0.1:*", "--duration", "10000");
    procs.push(proxy);
    const front = (await proxy.waitStderr(/frontend bound (\S+)/, 8000))[1]!;
    const back = (await proxy.waitStderr(/backend bound (\S+)/, 8000))[1]!;
    const pull = new Pull({ linger: 0, receiveTimeout: 8000 });
    const push = new Push({ linger: 0, sendTimeout: 8000 });
    try {
      pull.connect(back);
      push.connect(front);
      await push.send("through");
      assert.deepEqual((await pull.receive()).map(String), ["through"]);
    } finally {
      pull.close();
      push.close();
    }
    // process.kill, not child.kill(): Deno's ChildProcess reports a child it signalled itself as
    // killed by that signal (code null) even when the child handled it and exited 0.
    process.kill(proxy.child.pid!, "SIGTERM");
    assert.equal(await proxy.exit(5000), 0);
    assert.match(proxy.stderr(), /total: front end in 1 frames/);
  } finally {
    for (const p of procs) p.kill();
  }
});

test("monitor prints a socket's events", async () => {
  const pull = new Pull({ linger: 0 });
  let mon: Cli | undefined;
  try {
    await pull.bind("tcp://127.0.0.1:*");
    mon = cli("monitor", "--type", "push", "--connect", pull.lastEndpoint!, "--event", "connect", "--event", "handshake", "--count", "2", "--timeout", "8000", "--json");
    assert.equal(await mon.exit(10000), 0, mon.stderr());
    const events = mon.stdout().trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(events.map((e) => e.event).sort(), ["connect", "handshake"]);
    for (const e of events) assert.equal(e.address, pull.lastEndpoint);
  } finally {
    mon?.kill();
    pull.close();
  }
});

test("recv --timeout 200 with nothing to receive exits 2", async () => {
  const recv = cli("recv", "--bind", "tcp://127.0.0.1:*", "--timeout", "200");
  try {
    assert.equal(await recv.exit(8000), 2);
    assert.match(recv.stderr(), /timed out after 200 ms/);
  } finally {
    recv.kill();
  }
});

test("a usage error exits 1", async () => {
  const p = cli("send", "--bogus");
  try {
    assert.equal(await p.exit(8000), 1, p.stderr());
    assert.match(p.stderr(), /Unknown option '--bogus'/);
  } finally {
    p.kill();
  }
});

test("a bind that fails exits 3", async () => {
  const pull = new Pull({ linger: 0 });
  let recv: Cli | undefined;
  try {
    await pull.bind("tcp://127.0.0.1:*");
    recv = cli("recv", "--bind", pull.lastEndpoint!, "--timeout", "1000");
    assert.equal(await recv.exit(8000), 3, recv.stderr());
  } finally {
    recv?.kill();
    pull.close();
  }
});

test("--help from the process", async () => {
  const p = cli("sub", "--help");
  try {
    assert.equal(await p.exit(8000), 0, p.stderr());
    assert.match(p.stdout(), /^Usage: zmq-ts sub/);
  } finally {
    p.kill();
  }
});

test("bench --builtin reports a rate", async () => {
  const b = cli("bench", "--builtin", "--size", "64", "--seconds", "0.5", "--json");
  try {
    assert.equal(await bounded(b.exit(10000), 10000, "bench"), 0, b.stderr());
    const r = JSON.parse(b.stdout());
    assert.equal(r.type, "bench");
    assert.equal(r.size, 64);
    assert.ok(r.messages > 0 && r.msgPerSec > 0);
  } finally {
    b.kill();
  }
});

// Spawned processes are CPU-bound at start-up (tsx): run a few tests at once.
describe("zmq-ts CLI (spawned)", { concurrency: 3 }, () => {
  for (const [name, fn] of tests) nodeTest(name, fn);
});
