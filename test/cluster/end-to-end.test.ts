/**
 * End to end: clients drive engines that talk to each other. A DirectView.apply on 4
 * engines whose task runs the collectives (tree and ring allreduce, max, a custom op,
 * broadcast, scatter / gather, point to point, barrier) on the Comm the engines form
 * from the call's job and group — over inproc (inline engines) and across processes
 * over tcp. (A collective failing cleanly when a member is killed: faults.test.ts.)
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { LocalCluster, type Client } from "../../src/cluster/index.js";
import { within } from "../helpers/util.js";

const moduleRoot = join(process.cwd(), "test/cluster/fixtures");
const T = 30_000;

type Tour = {
  rank: number; size: number; smallSum: number; bigFirst: number; bigLast: number; bigLength: number; max: number;
  custom: number; broadcast: string; scattered: number[]; gathered: number[] | null; fromLeft: number;
};

async function tour(client: Client, n: number): Promise<void> {
  const ids = client.ids;
  assert.equal(ids.length, 4);
  const results = await within(client.view(ids).apply<Tour>("./tasks.ts#collectiveTour", n), T, "the collective tour");
  results.forEach((r, i) => {
    assert.equal(r.rank, i);
    assert.equal(r.size, 4);
    assert.equal(r.smallSum, 1 + 2 + 3 + 4);
    assert.equal(r.bigLength, n);
    assert.equal(r.bigFirst, 10);
    assert.equal(r.bigLast, 10);
    assert.equal(r.max, 21);
    assert.equal(r.custom, 2 * 3 * 4 * 5);
    assert.equal(r.broadcast, `hello from engine ${ids[0]}`);
    assert.deepEqual(r.scattered, [2 * i, 2 * i + 1]);
    assert.deepEqual(r.gathered, i === 0 ? [0, 100, 200, 300] : null);
    assert.equal(r.fromLeft, (i + 3) % 4);
  });
  const p2p = await within(client.view(ids).apply<number[] | null>("./tasks.ts#meshPointToPoint", ids[2]), T, "point to point");
  assert.deepEqual(p2p[2], ids.filter((id) => id !== ids[2]));
}

describe("collectives driven by a client", () => {
  test("4 inline engines over inproc: small and large (ring) allreduce and the rest", async () => {
    const cluster = await within(LocalCluster.start({ engines: 4, transport: "inproc", engine: { moduleRoot }, log: false }), T, "cluster");
    try {
      const client = await within(cluster.client(), T, "client");
      await tour(client, 10);
      await tour(client, 50_000); // 400 kB: above the ring threshold
    } finally {
      await within(cluster.stop(), T, "stop");
    }
  });

  test("4 engine processes over tcp", async () => {
    const cluster = await within(LocalCluster.start({
      engines: 4, mode: "process", transport: "tcp", engine: { moduleRoot }, log: false,
    }), T, "cluster");
    try {
      const client = await within(cluster.client(), T, "client");
      await tour(client, 10);
      await tour(client, 100_000);
    } finally {
      await within(cluster.stop(), T, "stop");
    }
  });
});
