import { test } from "node:test";
import assert from "node:assert/strict";
import * as zmq from "../../src/compat/index.js";

const semver = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

test("compat exports a semver-valid version", () => {
  assert.match(zmq.version, semver);
});

test("compat curveKeypair gives two 40-char Z85 strings", () => {
  const k = zmq.curveKeypair();
  assert.equal(typeof k.public, "string");
  assert.equal(typeof k.secret, "string");
  assert.equal(k.public.length, 40);
  assert.equal(k.secret.length, 40);
  assert.notEqual(k.public, k.secret);
});

test("compat exports socket types, options, flags as numbers", () => {
  const names = [
    "ZMQ_PUB", "ZMQ_SUB", "ZMQ_REQ", "ZMQ_XREQ", "ZMQ_REP", "ZMQ_XREP", "ZMQ_DEALER", "ZMQ_ROUTER", "ZMQ_PUSH", "ZMQ_PULL",
    "ZMQ_PAIR", "ZMQ_XPUB", "ZMQ_XSUB", "ZMQ_STREAM", "ZMQ_AFFINITY", "ZMQ_IDENTITY", "ZMQ_SUBSCRIBE", "ZMQ_UNSUBSCRIBE",
    "ZMQ_RCVTIMEO", "ZMQ_SNDTIMEO", "ZMQ_RATE", "ZMQ_RECOVERY_IVL", "ZMQ_SNDBUF", "ZMQ_RCVBUF", "ZMQ_RCVMORE", "ZMQ_FD",
    "ZMQ_EVENTS", "ZMQ_TYPE", "ZMQ_LINGER", "ZMQ_RECONNECT_IVL", "ZMQ_RECONNECT_IVL_MAX", "ZMQ_BACKLOG", "ZMQ_POLLIN",
    "ZMQ_POLLOUT", "ZMQ_POLLERR", "ZMQ_SNDMORE", "ZMQ_DONTWAIT", "ZMQ_SNDHWM", "ZMQ_RCVHWM", "ZMQ_MAXMSGSIZE",
    "ZMQ_MULTICAST_HOPS", "ZMQ_TCP_KEEPALIVE", "ZMQ_TCP_KEEPALIVE_CNT", "ZMQ_TCP_KEEPALIVE_IDLE", "ZMQ_TCP_KEEPALIVE_INTVL",
    "ZMQ_IPV4ONLY", "ZMQ_DELAY_ATTACH_ON_CONNECT", "ZMQ_ROUTER_MANDATORY", "ZMQ_XPUB_VERBOSE", "ZMQ_TCP_ACCEPT_FILTER",
    "ZMQ_LAST_ENDPOINT", "ZMQ_ROUTER_RAW", "ZMQ_ROUTING_ID",
  ];
  const mod = zmq as unknown as Record<string, unknown>;
  for (const n of names) assert.equal(typeof mod[n], "number", n);
  assert.equal(zmq.ZMQ_REQ, 3);
  assert.equal(zmq.ZMQ_SNDMORE, 2);
  assert.equal(zmq.ZMQ_BACKLOG, 19);
});

test("compat exports states", () => {
  assert.deepEqual([zmq.STATE_READY, zmq.STATE_BUSY, zmq.STATE_CLOSED], [0, 1, 2]);
});

test("compat exports constructors and methods", () => {
  assert.equal(typeof zmq.Context, "function");
  assert.equal(typeof zmq.Socket, "function");
  assert.equal(typeof zmq.socket, "function");
  assert.equal(typeof zmq.proxy, "function");
  assert.equal(zmq.createSocket, zmq.socket);
  assert.throws(() => new zmq.Context(), /cannot be instantiated/);
});

test("compat Context sets and reads max threads", () => {
  const before = zmq.Context.getMaxThreads();
  try {
    zmq.Context.setMaxThreads(3);
    assert.equal(zmq.Context.getMaxThreads(), 3);
  } finally {
    zmq.Context.setMaxThreads(before);
  }
});

test("compat Context sets and reads max sockets", () => {
  const before = zmq.Context.getMaxSockets();
  try {
    zmq.Context.setMaxSockets(256);
    assert.equal(zmq.Context.getMaxSockets(), 256);
  } finally {
    zmq.Context.setMaxSockets(before);
  }
});
