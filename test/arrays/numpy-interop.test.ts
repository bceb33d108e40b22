/**
 * Interop with Debian's numpy + pyzmq (/usr/bin/python3, peers/numpy_peer.py) using
 * pyzmq's documented send_array/recv_array recipe, over tcp and ipc (loopback):
 * numpy's arrays arrive correct in Node, Node's arrays arrive correct in numpy (the
 * peer checks and reports), and the metadata frame is byte-identical to json.dumps.
 * Also pins what the recipe does with non-C-contiguous arrays (the peer's "facts").
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import * as zmq from "../../src/index.js";
import { sendArray, receiveArray, type ReceivedArray, type TypedArray } from "../../src/arrays/index.js";
import { within, endpointFor } from "../helpers/util.js";

const PYTHON = "/usr/bin/python3";
const PEER = fileURLToPath(new URL("./peers/numpy_peer.py", import.meta.url));
const T = 10000;

interface Line {
  sent?: number;
  check?: string;
  ok?: boolean;
  detail?: string;
  facts?: Record<string, unknown>;
  done?: boolean;
}

/** The peer's stdout as a stream of parsed lines, and its stderr for failure messages. */
function startPeer(endpoint: string): { child: ChildProcessWithoutNullStreams; next: (what: string) => Promise<Line>; stderr: () => string } {
  const child = spawn(PYTHON, [PEER, endpoint], { stdio: ["pipe", "pipe", "pipe"], timeout: 30000 });
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const lines: Line[] = [];
  const waiters: Array<(l: Line | null) => void> = [];
  let ended = false;
  createInterface({ input: child.stdout }).on("line", (text) => {
    const line = JSON.parse(text) as Line;
    const w = waiters.shift();
    if (w) w(line);
    else lines.push(line);
  });
  child.on("close", () => {
    ended = true;
    for (const w of waiters.splice(0)) w(null);
  });
  const next = (what: string) =>
    within(
      new Promise<Line>((resolve, reject) => {
        const l = lines.shift();
        if (l) return resolve(l);
        if (ended) return reject(new Error(`python peer exited before ${what}: ${err}`));
        waiters.push((x) => (x ? resolve(x) : reject(new Error(`python peer exited before ${what}: ${err}`))));
      }),
      T,
      `python peer: ${what}`,
    );
  return { child, next, stderr: () => err };
}

function floatsEqual(actual: TypedArray, expected: number[], what: string): void {
  assert.deepEqual([...(actual as Float64Array)], expected, what);
}

const range = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));

describe("arrays: numpy interop (pyzmq recipe)", { skip: existsSync(PYTHON) ? false : `${PYTHON} not found` }, () => {
  for (const transport of ["tcp", "ipc"] as const) {
    test(`${transport}: numpy -> Node and Node -> numpy`, async () => {
      const sock = new zmq.Pair({ linger: 1000 });
      let peer: ReturnType<typeof startPeer> | undefined;
      try {
        await sock.bind(endpointFor(transport));
        peer = startPeer(sock.lastEndpoint!);
        const recv = (what: string) => within(receiveArray(sock), T, `numpy's ${what}`);

        // ---- numpy -> Node, in SENDS order
        let r: ReceivedArray = await recv("float64 2x3");
        assert.ok(r.array instanceof Float64Array);
        assert.deepEqual(r.shape, [2, 3]);
        assert.deepEqual(r.metadata, { dtype: "float64", shape: [2, 3] });
        floatsEqual(r.array, range(6, (i) => i / 4 - 0.5), "float64 2x3");

        r = await recv("int32 extremes");
        assert.ok(r.array instanceof Int32Array);
        assert.deepEqual([...r.array], [-(2 ** 31), 2 ** 31 - 1, 0, -1, 1]);

        r = await recv("big-endian >i4");
        assert.equal(r.metadata.dtype, ">i4");
        assert.equal(r.dtype, "int32");
        assert.ok(r.array instanceof Int32Array);
        assert.equal(r.copied, true, "converted");
        assert.deepEqual([...r.array], [0, 1, 2, 3, 4, 5]);

        r = await recv("2 MiB float64");
        assert.ok(r.array instanceof Float64Array);
        assert.deepEqual(r.shape, [262144]);
        assert.equal(r.array.byteLength, 2 << 20);
        let bad = -1;
        for (let i = 0; i < r.array.length; i++) if ((r.array as Float64Array)[i] !== i * 0.25 - 1000) { bad = i; break; }
        assert.equal(bad, -1, "2 MiB float64: every element");
        assert.equal(r.copied, false, "a 2 MiB frame is assembled aligned and used in place");

        r = await recv("transposed");
        assert.deepEqual(r.shape, [3, 2]);
        floatsEqual(r.array, [0, 3, 1, 4, 2, 5], "A.T in C order");

        r = await recv("bool");
        assert.equal(r.dtype, "bool");
        assert.ok(r.array instanceof Uint8Array);
        assert.deepEqual([...r.array], [1, 0, 1]);

        r = await recv("uint64 max");
        assert.ok(r.array instanceof BigUint64Array);
        assert.deepEqual([...r.array], [0n, 2n ** 64n - 1n]);

        r = await recv("int16 2x3x4");
        assert.ok(r.array instanceof Int16Array);
        assert.deepEqual(r.shape, [2, 3, 4]);
        assert.deepEqual([...r.array], range(24, (i) => i - 12));

        r = await recv("big-endian >f8");
        assert.equal(r.metadata.dtype, ">f8");
        floatsEqual(r.array, [1.5, -2.25, 1e300], ">f8");

        r = await recv("0-d float32");
        assert.deepEqual(r.shape, []);
        assert.ok(r.array instanceof Float32Array);
        assert.deepEqual([...r.array], [3.5]);

        assert.deepEqual(await peer.next("sent"), { sent: 10 });

        // ---- Node -> numpy
        const base = Float32Array.from(range(10, (i) => i * 1.5 - 2));
        const view = base.subarray(2, 8);
        assert.equal(view.byteOffset, 8);
        await sendArray(sock, { data: view, shape: [2, 3] });
        await sendArray(sock, BigInt64Array.of(-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n, 42n));
        await sendArray(sock, { data: Float64Array.of(0, 0.5, 1, 1.5, 2, 2.5), shape: [2, 3] }, { metadata: { name: "exact" } });
        await sendArray(sock, Uint8Array.of(1, 0, 1), { dtype: "bool" });
        await sendArray(sock, { data: Float64Array.from(range(262144, (i) => i * 0.5 + 7)), shape: [512, 512] });

        const checks: Line[] = [];
        for (let i = 0; i < 5; i++) checks.push(await peer.next(`check #${i}`));
        for (const c of checks) assert.equal(c.ok, true, `numpy: ${c.check}: ${c.detail}`);
        assert.deepEqual(checks.map((c) => c.check), [
          "float32 with byteOffset", "int64 extremes", "metadata bytes identical to json.dumps", "bool", "2 MiB float64",
        ]);

        // ---- what the recipe does with arrays that are not C-contiguous
        const { facts } = await peer.next("facts");
        assert.deepEqual(facts!.transpose_flags, { C: false, F: true });
        assert.equal(facts!.transpose_bytes, true, "pyzmq sends an F-contiguous array's memory as it is (Fortran order)");
        assert.equal(facts!.transpose_roundtrip_equal, false, "so even numpy -> numpy misreads A.T without ascontiguousarray");
        assert.deepEqual(facts!.transpose_received, [[0, 1], [2, 3], [4, 5]]);
        assert.match(String(facts!.slice_error), /not contiguous/, "a strided slice is refused...");
        assert.deepEqual(
          facts!.slice_leftover,
          ['{"dtype": "float64", "shape": [2, 2]}', "next"],
          "...after its JSON frame went out with SNDMORE: the next send is glued to it",
        );
        assert.deepEqual(await peer.next("done"), { done: true });
      } catch (e) {
        if (peer?.stderr() && !(e as Error).message.includes(peer.stderr())) (e as Error).message += `\npython stderr:\n${peer.stderr()}`;
        throw e;
      } finally {
        peer?.child.kill("SIGKILL");
        sock.close();
      }
    });
  }
});
