/**
 * The mesh's collectives among 1 to 5 meshes in this process (peer tables set by
 * hand), in both size regimes (tree and ring, forced through `ringThreshold`), checked
 * against a locally computed reference and for identical bytes on every rank; and the
 * faults: abort, a peer lost, a timeout, all failing within bounds. Loopback only.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { Context, type TypedArray } from "../../src/index.js";
import { cpus } from "node:os";
import { Mesh, RING_THRESHOLD_BYTES, ringThresholdFor, type Comm, type CommOptions, type ReduceOp } from "../../src/cluster/mesh.js";
import { reducerFor } from "../../src/cluster/reduce-ops.js";
import { Session } from "../../src/cluster/session.js";
import { ClusterError } from "../../src/cluster/errors.js";
import { within } from "../helpers/util.js";

const KEY = "collectives-test-key";
const T = 10_000;

interface Cluster {
  meshes: Mesh[];
  comms(job?: string, options?: CommOptions): Comm[];
  close(): Promise<void>;
}

async function cluster(n: number, transport: "inproc" | "tcp" = "inproc"): Promise<Cluster> {
  const context = new Context();
  const meshes: Mesh[] = [];
  for (let i = 0; i < n; i++) {
    const uuid = randomUUID();
    const endpoint = transport === "tcp" ? "tcp://127.0.0.1:*" : `inproc://coll-${uuid}`;
    meshes.push(await Mesh.bind({ session: new Session({ key: KEY }), uuid, endpoint, context, logger: () => {} }));
  }
  const table = meshes.map((m, id) => ({ id, uuid: m.uuid, peer_endpoint: m.endpoint }));
  meshes.forEach((m, id) => {
    m.setSelf(id);
    m.setPeers(table);
  });
  const group = meshes.map((_, i) => i);
  return {
    meshes,
    comms: (job = randomUUID(), options = { timeout: T }) => meshes.map((m) => m.comm(group, job, options)),
    close: async () => {
      await Promise.all(meshes.map((m) => m.close()));
    },
  };
}

/** Runs `fn` on every rank at once, bounded. */
function onAll<R>(comms: Comm[], fn: (c: Comm, rank: number) => Promise<R>, what = "a collective"): Promise<R[]> {
  return within(Promise.all(comms.map((c, i) => fn(c, i))), T, what);
}

const bytes = (a: TypedArray): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function assertSameBytes(results: readonly TypedArray[], what: string): void {
  for (let i = 1; i < results.length; i++) assert.ok(bytes(results[i]!).equals(bytes(results[0]!)), `${what}: rank ${i} differs from rank 0`);
}

type Ctor = new (n: number) => TypedArray;
const KINDS: Array<[string, Ctor]> = [
  ["int8", Int8Array], ["uint8", Uint8Array], ["uint8c", Uint8ClampedArray], ["int16", Int16Array], ["uint16", Uint16Array],
  ["int32", Int32Array], ["uint32", Uint32Array], ["float32", Float32Array], ["float64", Float64Array],
  ["int64", BigInt64Array], ["uint64", BigUint64Array],
];

/** Rank r's input: small values whose sums and products are exact in every dtype (or wrap identically). */
function input(Kind: Ctor, rank: number, n: number, op: string): TypedArray {
  const a = new Kind(n);
  const big = a instanceof BigInt64Array || a instanceof BigUint64Array;
  const signed = !(a instanceof Uint8Array || a instanceof Uint8ClampedArray || a instanceof Uint16Array || a instanceof Uint32Array || a instanceof BigUint64Array);
  for (let i = 0; i < n; i++) {
    let v = op === "prod" ? [1, 2, 3, 1, 2][(rank + i) % 5]! * (signed && (rank + 2 * i) % 3 === 0 ? -1 : 1) : ((rank * 7 + i * 3) % 11) - (signed ? 5 : 0);
    if (op === "prod" && !big && (a instanceof Float32Array || a instanceof Float64Array) && i % 4 === 1) v = v / 2; // halves: still exact
    (a as unknown as Array<number | bigint>)[i] = big ? BigInt(v) : v;
  }
  return a;
}

const customMax: ReduceOp = (into, other) => {
  const a = into as unknown as Array<number | bigint>, b = other as unknown as Array<number | bigint>;
  for (let i = 0; i < a.length; i++) if (b[i]! > a[i]!) a[i] = b[i]!;
};

function reference(inputs: readonly TypedArray[], op: ReduceOp): TypedArray {
  const acc = inputs[0]!.slice();
  for (const x of inputs.slice(1)) reducerFor(op)(acc, x);
  return acc;
}

const OPS: Array<[string, ReduceOp]> = [["sum", "sum"], ["prod", "prod"], ["min", "min"], ["max", "max"], ["custom", customMax]];

describe("allreduce and reduce: every size, op, dtype and regime", () => {
  for (const size of [1, 2, 3, 4, 5]) {
    test(`${size} rank(s)`, async () => {
      const c = await cluster(size);
      try {
        for (const [regime, ringThreshold, segmentBytes, smallAllreduce] of [["doubling", Infinity, undefined, "doubling"], ["tree", Infinity, undefined, "tree"], ["ring", 0, undefined, undefined], ["ring in blocks", 0, 4, undefined]] as const) {
          for (const [opName, op] of OPS) {
            for (const [kind, Kind] of KINDS) {
              // 7 elements: fewer than some ring segment counts would like, odd, and not a multiple of p.
              for (const n of [7, size > 2 ? 2 : 1]) {
                const what = `${regime} ${opName} ${kind}[${n}] on ${size}`;
                const inputs = Array.from({ length: size }, (_, r) => input(Kind, r, n, opName));
                const copies = inputs.map((a) => a.slice());
                const comms = c.comms(randomUUID(), { timeout: T, ringThreshold, segmentBytes, smallAllreduce });
                const all = await onAll(comms, (comm, r) => comm.allreduce(inputs[r]!, op), what);
                const ref = reference(inputs, op);
                assert.deepEqual(all[0], ref, what);
                assertSameBytes(all, what);
                inputs.forEach((a, r) => assert.deepEqual(a, copies[r], `${what}: the input of rank ${r} was modified`));
                const root = size - 1;
                const red = await onAll(comms, (comm, r) => comm.reduce(inputs[r]!, op, root), what);
                red.forEach((x, r) => (r === root ? assert.deepEqual(x, ref, `reduce ${what}`) : assert.equal(x, undefined)));
              }
            }
          }
        }
      } finally {
        await c.close();
      }
    });
  }

  test("numbers and bigints in, numbers and bigints out", async () => {
    const c = await cluster(3);
    try {
      const comms = c.comms();
      assert.deepEqual(await onAll(comms, (comm, r) => comm.allreduce(r + 0.5)), [4.5, 4.5, 4.5]);
      assert.deepEqual(await onAll(comms, (comm, r) => comm.allreduce(BigInt(r) - 5n, "min")), [-5n, -5n, -5n]);
      assert.deepEqual(await onAll(comms, (comm, r) => comm.reduce(r + 1, "prod", 1)), [undefined, 6, undefined]);
    } finally {
      await c.close();
    }
  });

  test("random floats over tcp: the ring and the tree give every rank the same bytes", async () => {
    const c = await cluster(5, "tcp");
    try {
      for (const [regime, ringThreshold, n, segmentBytes] of [["tree", Infinity, 1000, undefined], ["ring", undefined, 100_003, undefined], ["ring in 3 blocks", undefined, 100_003, 65_536]] as const) {
        const inputs = Array.from({ length: 5 }, () => Float64Array.from({ length: n }, () => Math.random() * 1e6 - 5e5));
        const all = await onAll(c.comms(randomUUID(), { timeout: T, ringThreshold, segmentBytes }), (comm, r) => comm.allreduce(inputs[r]!), regime);
        assertSameBytes(all, regime);
        const ref = reference(inputs, "sum") as Float64Array;
        for (let i = 0; i < n; i += 997) assert.ok(Math.abs(all[0]![i]! - ref[i]!) < 1e-6, `${regime}: element ${i}`);
        const f32 = Array.from({ length: 5 }, () => Float32Array.from({ length: n }, () => Math.random()));
        assertSameBytes(await onAll(c.comms(randomUUID(), { timeout: T, ringThreshold, segmentBytes }), (comm, r) => comm.allreduce(f32[r]!)), `${regime} float32`);
      }
    } finally {
      await c.close();
    }
  });

  test("a dtype or length mismatch is an EINVAL naming the ranks", async () => {
    const c = await cluster(2);
    try {
      const comms = c.comms(randomUUID(), { timeout: 500 });
      const results = await within(Promise.allSettled([comms[0]!.allreduce(new Float64Array(4)), comms[1]!.allreduce(new Int32Array(4))]), T, "mismatch");
      const errors = results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => r.reason as ClusterError);
      assert.ok(errors.some((e) => e.code === "EINVAL" && /rank 1 sent int32\[4\] where rank 0 expected float64\[4\]/.test(e.message)), errors.map((e) => e.message).join("\n"));
    } finally {
      await c.close();
    }
  });
});

/** 2×2 integer matrices, 4 int32 per matrix, multiplied mod 2³²: associative, not commutative. */
const matmul: ReduceOp = (into, other) => {
  const a = into as Int32Array, b = other as Int32Array;
  for (let k = 0; k + 3 < a.length; k += 4) {
    const [a0, a1, a2, a3] = [a[k]!, a[k + 1]!, a[k + 2]!, a[k + 3]!];
    const [b0, b1, b2, b3] = [b[k]!, b[k + 1]!, b[k + 2]!, b[k + 3]!];
    a[k] = Math.imul(a0, b0) + Math.imul(a1, b2);
    a[k + 1] = Math.imul(a0, b1) + Math.imul(a1, b3);
    a[k + 2] = Math.imul(a2, b0) + Math.imul(a3, b2);
    a[k + 3] = Math.imul(a2, b1) + Math.imul(a3, b3);
  }
};

describe("small allreduce by recursive doubling", () => {
  for (const size of [1, 2, 3, 4, 5, 8]) {
    test(`${size} rank(s): every op, odd lengths, a non-commutative op folds in rank order, same bytes everywhere`, async () => {
      const c = await cluster(size);
      try {
        for (const n of [1, 3, 7, 13]) {
          for (const [opName, op] of OPS) {
            for (const [kind, Kind] of [["float64", Float64Array], ["int32", Int32Array], ["int64", BigInt64Array]] as Array<[string, Ctor]>) {
              const what = `doubling ${opName} ${kind}[${n}] on ${size}`;
              const inputs = Array.from({ length: size }, (_, r) => input(Kind, r, n, opName));
              const all = await onAll(c.comms(randomUUID(), { timeout: T, smallAllreduce: "doubling" }), (comm, r) => comm.allreduce(inputs[r]!, op), what);
              assert.deepEqual(all[0], reference(inputs, op), what);
              assertSameBytes(all, what);
            }
          }
          // Non-commutative: the product of every rank's matrices, in rank order.
          const mats = Array.from({ length: size }, (_, r) => Int32Array.from({ length: 4 * n }, (_, i) => ((r * 5 + i * 3) % 7) - 3));
          const what = `doubling matmul int32[${4 * n}] on ${size}`;
          const ref = reference(mats, matmul);
          for (const smallAllreduce of ["doubling", "tree"] as const) {
            const all: TypedArray[] = await onAll(c.comms(randomUUID(), { timeout: T, smallAllreduce }), (comm, r) => comm.allreduce(mats[r]!, matmul), `${what} (${smallAllreduce})`);
            assert.deepEqual(all[0], ref, `${what} (${smallAllreduce})`);
            assertSameBytes(all, `${what} (${smallAllreduce})`);
          }
        }
        // Consecutive allreduces on one comm (scalars, as the CG loop does) stay apart.
        const comms = c.comms();
        for (let i = 0; i < 20; i++) {
          const got = await onAll(comms, (comm, r) => comm.allreduce(r + i));
          assert.deepEqual(got, Array(size).fill((size * (size - 1)) / 2 + size * i), `scalar allreduce ${i}`);
        }
      } finally {
        await c.close();
      }
    });
  }

  test("the default ring threshold: the tree for ranks sharing one host with fewer cores than ranks", async () => {
    assert.equal(ringThresholdFor(4, true, 2), Infinity);
    assert.equal(ringThresholdFor(2, true, 2), RING_THRESHOLD_BYTES);
    assert.equal(ringThresholdFor(4, false, 2), RING_THRESHOLD_BYTES);
    const c = await cluster(3, "tcp");
    try {
      const cores = cpus().length;
      for (const comm of c.comms()) assert.equal(comm.ringThreshold, ringThresholdFor(3, true, cores), "tcp on loopback is one host");
      for (const comm of c.comms(randomUUID(), { ringThreshold: 1000 })) assert.equal(comm.ringThreshold, 1000, "an explicit threshold wins");
      // Whatever it chose, a large allreduce still gives every rank the same bytes.
      const inputs = Array.from({ length: 3 }, () => Float64Array.from({ length: 20_000 }, () => Math.random()));
      assertSameBytes(await onAll(c.comms(), (comm, r) => comm.allreduce(inputs[r]!)), "default threshold, 160 kB");
    } finally {
      await c.close();
    }
  });

  test("random floats over tcp, 3 and 4 ranks: every rank gets the same bytes", async () => {
    for (const size of [3, 4]) {
      const c = await cluster(size, "tcp");
      try {
        for (const n of [1, 1000, 4095]) {
          const inputs = Array.from({ length: size }, () => Float64Array.from({ length: n }, () => Math.random() * 1e6 - 5e5));
          const all = await onAll(c.comms(), (comm, r) => comm.allreduce(inputs[r]!), `tcp ${size} ranks float64[${n}]`);
          assertSameBytes(all, `tcp ${size} ranks float64[${n}]`);
          const ref = reference(inputs, "sum") as Float64Array;
          for (let i = 0; i < n; i += 97) assert.ok(Math.abs(all[0]![i]! - ref[i]!) < 1e-6, `element ${i}`);
        }
      } finally {
        await c.close();
      }
    }
  });
});

describe("broadcast, scatter, gather, allgather, barrier", () => {
  for (const size of [1, 2, 3, 4, 5]) {
    test(`${size} rank(s)`, async () => {
      const c = await cluster(size);
      try {
        for (const root of new Set([0, size - 1, Math.floor(size / 2)])) {
          // Values of any kind through the tree.
          const value = { n: 42, s: "x", arr: new Int16Array([1, 2, 3]), nested: [null, 1n] };
          const got = await onAll(c.comms(), (comm, r) => comm.broadcast(r === root ? value : undefined, root));
          got.forEach((g) => assert.deepEqual(g, value));
          // Large typed arrays: the chain (small chunks, so many of them), and the tree.
          for (const ringThreshold of [0, Infinity]) {
            const big = Float64Array.from({ length: 10_001 }, (_, i) => i * 1.25);
            const res = await onAll(c.comms(randomUUID(), { timeout: T, ringThreshold, chunkBytes: 8 * 1000 }), (comm, r) => comm.broadcast(r === root ? big : undefined, root));
            res.forEach((g) => assert.deepEqual(g, big));
            res.forEach((g, r) => r !== root && assert.notEqual((g as Float64Array).buffer, big.buffer, "non-roots own their copy"));
          }
          // Scatter by elements and by rows, then gather back.
          const whole = Int32Array.from({ length: 23 }, (_, i) => i * 3 - 7);
          const parts = await onAll(c.comms(), (comm, r) => comm.scatter(r === root ? whole : undefined, root));
          assert.deepEqual(parts.map((p) => p.length).reduce((a, b) => a + b, 0), 23);
          parts.forEach((p, r) => assert.equal(p.length, Math.floor(((r + 1) * 23) / size) - Math.floor((r * 23) / size)));
          const gathered = await onAll(c.comms(), (comm, r) => comm.gather(parts[r]!, root));
          gathered.forEach((g, r) => (r === root ? assert.deepEqual(g, whole) : assert.equal(g, undefined)));
          const rows = Float32Array.from({ length: 7 * 3 }, (_, i) => i);
          const rowParts = await onAll(c.comms(), (comm, r) => comm.scatter(r === root ? rows : undefined, root, { shape: [7, 3] }));
          rowParts.forEach((p) => assert.equal(p.length % 3, 0));
          assert.deepEqual(Float32Array.from(rowParts.flatMap((p) => [...p])), rows);
        }
        // Allgather with parts of different lengths (rank r gives r+1 elements), every dtype kind.
        for (const [, Kind] of [KINDS[0]!, KINDS[8]!, KINDS[9]!]) {
          const mine = (r: number): TypedArray => {
            const a = new Kind(r + 1);
            for (let i = 0; i <= r; i++) (a as unknown as Array<number | bigint>)[i] = a instanceof BigInt64Array ? BigInt(r * 10 + i) : r * 10 + i;
            return a;
          };
          const all = await onAll(c.comms(), (comm, r) => comm.allgather(mine(r)));
          const expected = new Kind(((size) * (size + 1)) / 2);
          let at = 0;
          for (let r = 0; r < size; r++) for (const v of mine(r) as unknown as Array<number | bigint>) (expected as unknown as Array<number | bigint>)[at++] = v;
          all.forEach((a) => assert.deepEqual(a, expected));
        }
        // Barrier: nobody leaves before the last rank has entered.
        const comms = c.comms();
        let entered = 0;
        const left: number[] = [];
        await onAll(comms, async (comm, r) => {
          if (r === size - 1) await new Promise((res) => setTimeout(res, 30));
          entered++;
          await comm.barrier();
          left.push(entered);
        });
        assert.deepEqual(left, new Array(size).fill(size));
        // Point to point within the comm, in order.
        if (size > 1) {
          const p2p = c.comms();
          await onAll(p2p, async (comm, r) => {
            if (r === 0) {
              await comm.send(size - 1, "a");
              await comm.send(size - 1, "b");
            } else if (r === size - 1) {
              assert.equal(await comm.recv(0), "a");
              assert.equal(await comm.recv(0), "b");
            }
          });
        }
      } finally {
        await c.close();
      }
    });
  }
});

describe("collectives: jobs, sequences and faults", () => {
  test("concurrent jobs and consecutive collectives never mix", async () => {
    const c = await cluster(4);
    try {
      const jobs = [0, 1, 2].map(() => c.comms());
      // Every rank starts the jobs in a different order; each job does three allreduces in a row.
      const runs = await within(
        Promise.all(
          c.meshes.map((_, r) =>
            Promise.all(
              [...jobs.keys()].sort((a, b) => ((a + r) % 3) - ((b + r) % 3)).map(async (j) => {
                const comm = jobs[j]![r]!;
                const out: number[] = [];
                for (let k = 0; k < 3; k++) out.push(await comm.allreduce((j + 1) * 100 + k * 10 + r));
                out.push((await comm.allreduce(new Float64Array(20_000).fill(j + 1)))[19_999]!);
                return [j, out] as const;
              }),
            ),
          ),
        ),
        T,
        "three concurrent jobs",
      );
      for (const perRank of runs) {
        for (const [j, out] of perRank) assert.deepEqual(out, [0, 1, 2].map((k) => 4 * ((j + 1) * 100 + k * 10) + 6).concat([4 * (j + 1)]));
      }
    } finally {
      await c.close();
    }
  });

  test("mesh.comm returns the same comm for a job; a different group for it is EINVAL", async () => {
    const c = await cluster(3);
    try {
      const a = c.meshes[0]!.comm([2, 0, 1], "job-x");
      assert.equal(c.meshes[0]!.comm([0, 1, 2], "job-x"), a);
      assert.deepEqual(a.group, [0, 1, 2]);
      assert.throws(() => c.meshes[0]!.comm([0, 1], "job-x"), /already has the group/);
      assert.throws(() => c.meshes[0]!.comm([1, 2], "job-y"), /not in the group/);
      const sub = c.meshes.slice(1).map((m) => m.comm([1, 2], "job-z"));
      assert.deepEqual(sub.map((s) => s.rank), [0, 1]);
      assert.deepEqual(await onAll(sub, (s) => s.allreduce(s.group[s.rank]!)), [3, 3]);
    } finally {
      await c.close();
    }
  });

  for (const transport of ["inproc", "tcp"] as const) {
    test(`abortJob on one rank fails the others' collective with EABORTED naming it (${transport})`, async () => {
      const c = await cluster(4, transport);
      try {
        const job = randomUUID();
        const comms = c.comms(job, { timeout: T });
        const started = Date.now();
        const results = await within(
          Promise.allSettled(
            comms.map(async (comm, r) => {
              if (r === 2) {
                await new Promise((res) => setTimeout(res, 20));
                c.meshes[2]!.abortJob(job, new Error("division by zero in the task"));
                return comm.allreduce(new Float64Array(100_000)); // its own waits fail too
              }
              return comm.allreduce(new Float64Array(100_000).fill(r));
            }),
          ),
          T,
          "the aborted collective",
        );
        assert.ok(Date.now() - started < T / 2);
        for (const r of results) {
          assert.equal(r.status, "rejected");
          const e = (r as PromiseRejectedResult).reason as ClusterError;
          assert.equal(e.code, "EABORTED", e.message);
          assert.equal(e.engineId, 2);
          assert.match(e.message, new RegExp(`job ${job} aborted: engine 2 failed: division by zero in the task`));
        }
        // Later messages of the job are dropped; later collectives of it fail at once.
        await assert.rejects(comms[1]!.barrier(), (e: ClusterError) => e.code === "EABORTED");
        for (const m of c.meshes) m.finishJob(job);
        assert.ok(c.meshes.every((m) => m.dropped === 0));
      } finally {
        await c.close();
      }
    });
  }

  test("an abort that arrives before the job starts here fails its first collective; a finished job's late messages are dropped", async () => {
    const c = await cluster(2);
    try {
      const [a, b] = c.meshes as [Mesh, Mesh];
      a.abortJob("early", new Error("failed at once"), [0, 1]);
      // b has no comm for the job yet (or creates it before the abort arrives): its first collective fails with a's error.
      const outcome = await within(b.comm([0, 1], "early", { timeout: T }).barrier().then(() => "ok", (e: unknown) => e), T, "the abort");
      assert.ok(outcome instanceof ClusterError, String(outcome));
      assert.equal(outcome.code, "EABORTED");
      assert.equal(outcome.engineId, 0);
      assert.match(outcome.message, /engine 0 failed: failed at once/);
      // A job that finished on b: a's late message for it is dropped, not kept.
      const done = c.comms("done-job");
      await onAll(done, (comm) => comm.barrier());
      b.finishJob("done-job");
      await done[0]!.send(1, "too late");
      const until = Date.now() + T;
      while (b.late === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
      assert.equal(b.late, 1);
      assert.equal(b.pending, 0);
    } finally {
      await c.close();
    }
  });

  test("a peer lost in the middle of a collective fails it with EENGINEDIED on every other rank", async () => {
    const c = await cluster(5, "tcp");
    try {
      const comms = c.comms(randomUUID(), { timeout: T });
      const pending = [0, 1, 2, 4].map((r) => comms[r]!.allreduce(new Float64Array(200_000).fill(1)).then(() => "resolved", (e: ClusterError) => e));
      // Rank 3 never takes part: it "dies", and the hub's notification reaches everyone.
      await new Promise((res) => setTimeout(res, 30));
      await c.meshes[3]!.close();
      for (const r of [0, 1, 2, 4]) c.meshes[r]!.removePeer(3, "heartbeat");
      const outcomes = await within(Promise.all(pending), T, "the failed collective");
      for (const o of outcomes) {
        assert.ok(o instanceof ClusterError, String(o));
        assert.equal(o.code, "EENGINEDIED");
        assert.equal(o.engineId, 3);
        assert.match(o.message, /^engine 3 left the cluster \(heartbeat\): allreduce #1 of job/);
      }
      // The comm stays unusable: its group lost a member.
      await assert.rejects(comms[0]!.barrier(), (e: ClusterError) => e.code === "EENGINEDIED");
    } finally {
      await c.close();
    }
  });

  test("a comm timeout bounds every wait: ETIMEDOUT when a rank never comes", async () => {
    const c = await cluster(3);
    try {
      const comms = c.comms(randomUUID(), { timeout: 150 });
      const started = Date.now();
      const results = await within(Promise.allSettled([comms[0]!.allreduce(1), comms[1]!.allreduce(2)]), T, "timeouts");
      const rejected = results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason as ClusterError);
      assert.equal(rejected.length, 2);
      for (const e of rejected) assert.equal(e.code, "ETIMEDOUT");
      assert.ok(Date.now() - started < 2000);
    } finally {
      await c.close();
    }
  });
});
