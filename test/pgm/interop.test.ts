// epgm:// against libzmq 4.3.4 + OpenPGM (Debian's pyzmq), each side in its own network
// namespace: the test creates a namespace and a veth pair (10.231.N.1 here, 10.231.N.2 in the
// namespace), runs the pyzmq peer inside it with `ip netns exec`, and deletes it afterwards.
// Why not loopback: OpenPGM binds its UDP port with SO_REUSEPORT only and Node's dgram
// (before 22.12) cannot set it, so the two cannot share a port in one namespace.
// Loss: `tc netem` is not built into this kernel, so datagrams are dropped at random with
// iptables' statistic match inside the namespace (OUTPUT: pyzmq's ODATA; INPUT: ours).
//
//   node --import tsx --test test/pgm/interop.test.ts      (as root; skips otherwise)
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Publisher, Subscriber } from "../../src/index.js";

const PY = "/usr/bin/python3";
const peer = fileURLToPath(new URL("./peers/pgm_peer.py", import.meta.url));

function gap(): string | null {
  if (process.platform !== "linux") return "network namespaces are Linux only";
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return "needs root to create a network namespace (ip netns)";
  if (spawnSync("ip", ["-V"]).status !== 0) return "iproute2's `ip` is not installed";
  if (!existsSync(PY)) return `${PY} not found (Debian's python3-zmq is the libzmq peer)`;
  const r = spawnSync(PY, ["-c", "import zmq,sys; sys.exit(0 if zmq.has('pgm') else 3)"]);
  if (r.status !== 0) return "python3-zmq with PGM support (zmq.has('pgm')) is not installed";
  return null;
}
const skip = gap();
const iptablesGap = skip ?? (spawnSync("iptables", ["-V"]).status === 0 ? null : "iptables is not installed (loss injection)");

const N = 100 + Math.floor(Math.random() * 150);
const NS = `zmqts-pgm-${process.pid}`;
const HOST_IF = `zp${process.pid % 100000}h`;
const NS_IF = `zp${process.pid % 100000}n`;
const HOST_IP = `10.231.${N}.1`;
const NS_IP = `10.231.${N}.2`;
const GROUP = "239.192.31.1";
const children = new Set<ChildProcess>();

function sh(...args: string[]): void {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: "utf8", timeout: 10000 });
  if (r.status !== 0) throw new Error(`${args.join(" ")}: ${r.stderr || r.error}`);
}
const nsExec = (...args: string[]) => sh("ip", "netns", "exec", NS, ...args);

/** The pyzmq peer in the namespace; resolves lines as they come. */
function startPeer(...args: string[]) {
  const child = spawn("ip", ["netns", "exec", NS, PY, peer, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  children.add(child);
  child.on("exit", () => children.delete(child));
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  createInterface({ input: child.stdout! }).on("line", (l) => {
    lines.push(l);
    for (const w of [...waiters]) if (w.re.test(l)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(l); }
  });
  child.stderr!.resume();
  const waitFor = (re: RegExp, ms: number) => {
    const seen = lines.find((l) => re.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`peer: no ${re} within ${ms} ms; got ${lines.slice(-3).join(" / ")}`)), ms);
      waiters.push({ re, resolve: (l) => { clearTimeout(timer); resolve(l); } });
    });
  };
  return { child, lines, waitFor };
}

const stats = (sock: Publisher | Subscriber, ep: string) =>
  (sock as unknown as { _bound: Map<string, { transport: { stats: { sender?: Record<string, number>; receiver?: Record<string, number> } } }> })
    ._bound.get(ep)!.transport.stats;

describe("epgm:// interop with pyzmq (libzmq + OpenPGM) across network namespaces", { skip: skip ?? false, timeout: 120000 }, () => {
  before(() => {
    sh("ip", "netns", "add", NS);
    sh("ip", "link", "add", HOST_IF, "type", "veth", "peer", "name", NS_IF);
    sh("ip", "link", "set", NS_IF, "netns", NS);
    sh("ip", "addr", "add", `${HOST_IP}/24`, "dev", HOST_IF);
    sh("ip", "link", "set", HOST_IF, "up");
    nsExec("ip", "addr", "add", `${NS_IP}/24`, "dev", NS_IF);
    nsExec("ip", "link", "set", NS_IF, "up");
    nsExec("ip", "link", "set", "lo", "up");
  });
  after(() => {
    for (const c of children) c.kill("SIGKILL");
    spawnSync("ip", ["netns", "del", NS]); // takes the veth pair with it
    spawnSync("ip", ["link", "del", HOST_IF]);
  });

  let nextPort = 21000 + Math.floor(Math.random() * 20000);

  async function pyPubToOurSub(count: number, dropPercent: number) {
    const port = nextPort++;
    const ours = `epgm://${HOST_IP};${GROUP}:${port}`;
    const sub = new Subscriber({ receiveTimeout: 10000 });
    const py = startPeer("pub", `epgm://${NS_IP};${GROUP}:${port}`, String(count), "10000", "3");
    try {
      sub.subscribe("t");
      await sub.bind(ours);
      await py.waitFor(/^ready/, 10000);
      await new Promise((r) => setTimeout(r, 300));
      py.child.stdin!.write("go\n");
      const got: number[] = [];
      while (got.length < count) {
        const [topic, body] = await sub.receive();
        assert.equal(String(topic), "t");
        got.push(Number(/^msg (\d+)/.exec(String(body))![1]));
      }
      assert.deepEqual(got, Array.from({ length: count }, (_, i) => i));
      return stats(sub, ours).receiver!;
    } finally {
      sub.close();
      py.child.kill("SIGKILL");
    }
  }

  async function ourPubToPySub(count: number) {
    const port = nextPort++;
    const ours = `epgm://${HOST_IP};${GROUP}:${port}`;
    const pub = new Publisher({ rate: 10000, linger: 2000 });
    const py = startPeer("sub", `epgm://${NS_IP};${GROUP}:${port}`, String(count), "20000", "10000");
    try {
      await py.waitFor(/^ready/, 10000);
      await pub.bind(ours);
      await new Promise((r) => setTimeout(r, 500));
      for (let i = 0; i < count; i++) {
        await pub.send(["t", `msg ${i}` + (i % 50 === 49 ? "x".repeat(3000) : "")]);
        if (i % 10 === 9) await new Promise((r) => setTimeout(r, 5));
      }
      const done = await py.waitFor(/^done \d+/, 25000);
      const got = py.lines.filter((l) => l.startsWith("got ")).map((l) => Number(l.split(" ")[1]));
      assert.equal(done, `done ${count}`);
      assert.deepEqual(got, Array.from({ length: count }, (_, i) => i));
      return stats(pub, ours).sender!;
    } finally {
      pub.close();
      py.child.kill("SIGKILL");
    }
  }

  test("pyzmq PUB -> our SUB", async () => {
    await pyPubToOurSub(300, 0);
  });

  test("our PUB -> pyzmq SUB", async () => {
    await ourPubToPySub(300);
  });

  describe("with 5% of datagrams dropped in the namespace", { skip: iptablesGap ?? false }, () => {
    const rule = (chain: "INPUT" | "OUTPUT", op: "-A" | "-D") =>
      nsExec("iptables", op, chain, chain === "INPUT" ? "-i" : "-o", NS_IF, "-p", "udp",
        "-m", "statistic", "--mode", "random", "--probability", "0.05", "-j", "DROP");
    const dropped = (chain: string) => {
      const r = spawnSync("ip", ["netns", "exec", NS, "iptables", "-L", chain, "-v", "-n", "-x"], { encoding: "utf8" });
      return Number(r.stdout.trim().split("\n").at(-1)!.trim().split(/\s+/)[0]);
    };

    test("pyzmq PUB -> our SUB: our NAKs get OpenPGM's RDATA, every message arrives in order", async (t) => {
      rule("OUTPUT", "-A");
      try {
        const s = await pyPubToOurSub(500, 5);
        const drops = dropped("OUTPUT");
        t.diagnostic(`datagrams dropped ${drops}; ODATA+RDATA accepted ${s.received}, repaired ${s.repaired}, NAKs sent ${s.naksSent}, lost ${s.lost}, messages ${s.messages}`);
        assert.equal(s.lost, 0);
        assert.ok(drops > 0);
      } finally {
        rule("OUTPUT", "-D");
      }
    });

    test("our PUB -> pyzmq SUB: OpenPGM's NAKs get our NCF + RDATA, every message arrives in order", async (t) => {
      rule("INPUT", "-A");
      try {
        const s = await ourPubToPySub(500);
        const drops = dropped("INPUT");
        t.diagnostic(`datagrams dropped ${drops}; ODATA sent ${s.odata}, NAKs received ${s.naks}, RDATA sent ${s.rdata}, SPMs ${s.spms}`);
        assert.ok(drops > 0);
        assert.ok(s.rdata > 0, "repairs were sent");
      } finally {
        rule("INPUT", "-D");
      }
    });
  });
});
