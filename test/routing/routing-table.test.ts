import { test } from "node:test";
import assert from "node:assert/strict";
import { RoutingTable, routingKey } from "../../src/routing/routing-table.js";
import type { Pipe } from "../../src/pipe/pipe.js";
import { FakeOwner, pipes } from "./helpers.js";

test("rt: add / get / has / remove", () => {
  const [a, b] = pipes(new FakeOwner(), 2) as [Pipe, Pipe];
  const rt = new RoutingTable();
  rt.add(Buffer.from("alice"), a);
  rt.add(Buffer.from([0xff, 0x00, 0xc3]), b);
  assert.equal(rt.size, 2);
  assert.equal(rt.get(Buffer.from("alice")), a);
  assert.equal(rt.get(new Uint8Array([0x61, 0x6c, 0x69, 0x63, 0x65])), a); // plain Uint8Array
  assert.equal(rt.get(new Uint8Array([9, 0xff, 0x00, 0xc3, 9]).subarray(1, 4)), b); // a view
  assert.equal(rt.has(Buffer.from([0xff, 0x00])), false);
  assert.equal(rt.get(Buffer.from("bob")), undefined);
  rt.remove(a);
  rt.remove(a);
  assert.equal(rt.has(Buffer.from("alice")), false);
  assert.equal(rt.size, 1);
});

test("rt: an id taken over by another pipe, a pipe renamed", () => {
  const [a, b] = pipes(new FakeOwner(), 2) as [Pipe, Pipe];
  const rt = new RoutingTable();
  rt.add(Buffer.from("x"), a);
  rt.add(Buffer.from("x"), b); // handover
  assert.equal(rt.get(Buffer.from("x")), b);
  rt.remove(a); // a no longer owns "x": nothing happens
  assert.equal(rt.get(Buffer.from("x")), b);
  rt.add(Buffer.from("y"), b); // renamed
  assert.equal(rt.has(Buffer.from("x")), false);
  assert.equal(rt.get(Buffer.from("y")), b);
  assert.equal(rt.size, 1);
});

test("rt: keys are collision-free for arbitrary bytes", () => {
  const seen = new Set<string>();
  for (let x = 0; x < 256; x++) for (let y = 0; y < 256; y++) seen.add(routingKey(Buffer.from([x, y])));
  for (let x = 0; x < 256; x++) seen.add(routingKey(Buffer.from([x])));
  assert.equal(seen.size, 65536 + 256);
  // invalid UTF-8 would collapse under utf8 decoding, not under latin1
  assert.notEqual(routingKey(Buffer.from([0xc3])), routingKey(Buffer.from([0xc4])));
});

test("rt: generated ids are 0x00 + 32-bit big-endian counter, sequential, skipping ids in use", () => {
  const rt = new RoutingTable();
  const a = rt.nextGeneratedId();
  assert.equal(a.length, 5);
  assert.equal(a[0], 0);
  const n = a.readUInt32BE(1);
  const b = rt.nextGeneratedId();
  assert.equal(b.readUInt32BE(1), (n + 1) >>> 0);
  // take the next one by hand: the generator must skip it
  const taken = Buffer.alloc(5);
  taken.writeUInt32BE((n + 2) >>> 0, 1);
  const [p] = pipes(new FakeOwner(), 1);
  rt.add(taken, p!);
  assert.equal(rt.nextGeneratedId().readUInt32BE(1), (n + 3) >>> 0);
  // the counter starts at a random value
  const starts = new Set(Array.from({ length: 8 }, () => new RoutingTable().nextGeneratedId().readUInt32BE(1)));
  assert.ok(starts.size > 1);
});

test("rt: the counter wraps around at 2^32", () => {
  const rt = new RoutingTable();
  (rt as unknown as { nextId: number }).nextId = 0xffffffff;
  assert.deepEqual([...rt.nextGeneratedId()], [0, 0xff, 0xff, 0xff, 0xff]);
  assert.deepEqual([...rt.nextGeneratedId()], [0, 0, 0, 0, 0]);
  assert.deepEqual([...rt.nextGeneratedId()], [0, 0, 0, 0, 1]);
});
