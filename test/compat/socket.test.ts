import { test } from "node:test";
import assert from "node:assert/strict";
import * as zmq from "../../src/compat/index.js";

const types = ["pub", "sub", "req", "rep", "dealer", "router", "push", "pull", "pair", "xpub", "xsub", "stream", "xreq", "xrep"] as const;

test("compat socket() creates every socket type by name", () => {
  for (const t of types) {
    const s = zmq.socket(t);
    try {
      assert.equal(s.type, t);
      assert.ok(s instanceof zmq.Socket);
    } finally {
      s.close();
    }
  }
});

test("compat socket() takes ZMQ_* numbers too", () => {
  const s = zmq.socket(zmq.ZMQ_DEALER);
  try {
    assert.equal(s.type, "dealer");
    assert.equal(s.getsockopt(zmq.ZMQ_TYPE), zmq.ZMQ_DEALER);
  } finally {
    s.close();
  }
});

test("compat socket() rejects an unknown type", () => {
  assert.throws(() => zmq.socket("nope" as never), /Invalid socket type/);
});

test("compat socket has type and close, and reports closed", () => {
  const s = zmq.socket("req");
  try {
    assert.equal(s.type, "req");
    assert.equal(typeof s.close, "function");
    assert.equal(s.closed, false);
  } finally {
    s.close();
  }
  assert.equal(s.closed, true);
});

test("compat setsockopt is chainable and getsockopt reads it back by id", () => {
  const s = zmq.socket("req");
  try {
    assert.notEqual(s.getsockopt(zmq.ZMQ_BACKLOG), 75);
    assert.equal(s.setsockopt(zmq.ZMQ_BACKLOG, 75), s);
    assert.equal(s.getsockopt(zmq.ZMQ_BACKLOG), 75);
  } finally {
    s.close();
  }
});

test("compat options by short name and as properties", () => {
  const s = zmq.socket("req");
  try {
    assert.equal(s.setsockopt("backlog", 75), s);
    assert.equal(s.getsockopt("backlog"), 75);
    assert.equal(typeof s.backlog, "number");
    s.backlog = 50;
    assert.equal(s.backlog, 50);
    s.identity = "me";
    assert.equal(String(s.getsockopt(zmq.ZMQ_IDENTITY)), "me");
  } finally {
    s.close();
  }
});

test("compat socket() applies options", () => {
  const s = zmq.socket("req", { backlog: 30, linger: 0 });
  try {
    assert.equal(s.getsockopt("backlog"), 30);
    assert.equal(s.getsockopt(zmq.ZMQ_LINGER), 0);
  } finally {
    s.close();
  }
});

test("compat numeric options round-trip", () => {
  const s = zmq.socket("dealer");
  try {
    const rows: Array<[number, number]> = [
      [zmq.ZMQ_SNDHWM, 7], [zmq.ZMQ_RCVHWM, 9], [zmq.ZMQ_LINGER, 0], [zmq.ZMQ_SNDTIMEO, 10], [zmq.ZMQ_RCVTIMEO, 20],
      [zmq.ZMQ_RECONNECT_IVL, 150], [zmq.ZMQ_RECONNECT_IVL_MAX, 300], [zmq.ZMQ_MAXMSGSIZE, 1024], [zmq.ZMQ_AFFINITY, 1],
    ];
    for (const [id, v] of rows) {
      s.setsockopt(id, v);
      assert.equal(s.getsockopt(id), v, `option ${id}`);
    }
    s.setsockopt(zmq.ZMQ_IPV6, 1);
    assert.equal(s.getsockopt(zmq.ZMQ_IPV6), 1);
    assert.equal(s.getsockopt(zmq.ZMQ_IPV4ONLY), 0);
    s.setsockopt(zmq.ZMQ_IPV4ONLY, 1);
    assert.equal(s.getsockopt(zmq.ZMQ_IPV6), 0);
    assert.equal(s.getsockopt(zmq.ZMQ_MECHANISM), 0);
    assert.equal(s.getsockopt(zmq.ZMQ_EVENTS) & zmq.ZMQ_POLLIN, 0);
  } finally {
    s.close();
  }
});

test("compat router mandatory reads as 1/0", () => {
  const s = zmq.socket("router");
  try {
    assert.equal(s.getsockopt(zmq.ZMQ_ROUTER_MANDATORY), 0);
    s.setsockopt(zmq.ZMQ_ROUTER_MANDATORY, 1).setsockopt(zmq.ZMQ_SNDTIMEO, 10);
    assert.equal(s.getsockopt(zmq.ZMQ_ROUTER_MANDATORY), 1);
  } finally {
    s.close();
  }
});

test("compat unsupported options throw", () => {
  const s = zmq.socket("router");
  try {
    assert.throws(() => s.getsockopt(zmq.ZMQ_RCVMORE), /not supported/);
    assert.throws(() => s.getsockopt(zmq.ZMQ_FD), /not supported/);
    assert.throws(() => s.setsockopt(zmq.ZMQ_ROUTER_RAW, 1), /not supported/);
    assert.throws(() => s.setsockopt(12345, 1), /Unknown option/);
    assert.throws(() => s.getsockopt(12345), /Unknown option/);
    assert.throws(() => s.read(), /removed/);
    assert.throws(() => s.subscribe("x"), /Subscriber socket required/);
  } finally {
    s.close();
  }
});

test("compat sending on a receive-only socket throws", () => {
  const s = zmq.socket("pull");
  try {
    assert.throws(() => s.send("x"), /Cannot send/);
  } finally {
    s.close();
  }
});
