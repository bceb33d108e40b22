import { test } from "node:test";
import assert from "node:assert/strict";
import * as http from "node:http";
import * as zmq from "../../src/compat/index.js";
import { within, next, messages, bound, inproc, tcp, delay, closeAll } from "./helpers.js";

const routeErrors = ["No route to host", "Resource temporarily unavailable", "Host unreachable"];

test("compat monitor emits listen, accept and disconnect with the endpoint", async () => {
  const rep = zmq.socket("rep");
  const req = zmq.socket("req");
  try {
    rep.monitor();
    const listen = next(rep, "listen");
    const accept = next(rep, "accept");
    const disconnect = next(rep, "disconnect");
    rep.on("message", () => rep.send("world"));
    const ep = await bound(rep, tcp);
    assert.equal(String((await listen)[1]), ep);
    req.connect(ep);
    const reply = messages(req, 1);
    req.send("hello");
    assert.deepEqual(await reply, [["world"]]);
    assert.equal(String((await accept)[1]), ep);
    req.close();
    assert.equal(String((await disconnect)[1]), ep);
    rep.unmonitor();
  } finally {
    closeAll(req, rep);
  }
});

test("compat bind errors go to the callback and to the bind_error monitor event", async () => {
  const rep = zmq.socket("rep");
  const other = zmq.socket("rep");
  try {
    const ep = await bound(rep, tcp);
    other.monitor();
    const bindError = next(other, "bind_error");
    const err = await within(new Promise<Error | undefined>((resolve) => other.bind(ep, resolve)), 3000, "bind callback");
    assert.ok(err instanceof Error);
    assert.equal(typeof (err as Error & { code?: string }).code, "string");
    const [value, , ex] = await bindError;
    assert.ok(ex instanceof Error);
    assert.equal(typeof value, "number");
  } finally {
    closeAll(rep, other);
  }
});

test("compat monitor reports connect on the connecting side", async () => {
  const pull = zmq.socket("pull");
  const push = zmq.socket("push");
  try {
    const ep = await bound(pull, tcp);
    push.monitor();
    const connect = next(push, "connect");
    push.connect(ep);
    assert.equal(String((await connect)[1]), ep);
  } finally {
    closeAll(push, pull);
  }
});

test("compat router with mandatory fails sends to unknown peers", async () => {
  const envelope = "12384982398293";
  const a = zmq.socket("router");
  const b = zmq.socket("router");
  const c = zmq.socket("router");
  try {
    a.setsockopt(zmq.ZMQ_ROUTER_MANDATORY, 1).setsockopt(zmq.ZMQ_SNDTIMEO, 10);
    const err = next(a, "error");
    a.send([envelope, ""]);
    assert.ok(routeErrors.includes(((await err)[0] as Error).message));

    b.setsockopt(zmq.ZMQ_ROUTER_MANDATORY, 1).setsockopt(zmq.ZMQ_SNDTIMEO, 10);
    const results = await within(
      Promise.all([0, 1, 2].map(() => new Promise<Error | undefined>((resolve) => b.send([envelope, ""], null, resolve)))),
      3000,
      "three callbacks",
    );
    for (const e of results) assert.ok(e && routeErrors.includes(e.message), String(e));

    const ok = await within(new Promise<Error | undefined>((resolve) => c.send([envelope, ""], null, resolve)), 3000, "silent drop");
    assert.equal(ok, undefined);
  } finally {
    closeAll(a, b, c);
  }
});

test("compat proxy is a function and rejects a wrong order", () => {
  const xpub = zmq.socket("xpub");
  const xsub = zmq.socket("xsub");
  try {
    assert.equal(typeof zmq.proxy, "function");
    assert.throws(() => zmq.proxy(xsub, xpub), /This socket type order is not supported in compatibility mode/);
  } finally {
    closeAll(xpub, xsub);
  }
});

test("compat proxy push/pull with capture", async () => {
  const frontend = zmq.socket("pull");
  const backend = zmq.socket("push");
  const capture = zmq.socket("push");
  const src = zmq.socket("push");
  const dst = zmq.socket("pull");
  const cap = zmq.socket("pull");
  try {
    const [f, b, k] = [inproc(), inproc(), inproc()];
    frontend.bindSync(f);
    backend.bindSync(b);
    capture.bindSync(k);
    src.connect(f);
    dst.connect(b);
    cap.connect(k);
    zmq.proxy(frontend, backend, capture);
    const got = messages(dst, 1);
    src.send("foo");
    assert.deepEqual(await got, [["foo"]]);
  } finally {
    closeAll(frontend, backend, capture, src, dst, cap);
  }
});

test("compat proxy router/dealer with capture", async () => {
  const frontend = zmq.socket("router");
  const backend = zmq.socket("dealer");
  const capture = zmq.socket("push");
  const req = zmq.socket("req");
  const rep = zmq.socket("rep");
  const cap = zmq.socket("pull");
  try {
    const f = await bound(frontend, tcp);
    const b = await bound(backend, tcp);
    const k = await bound(capture, tcp);
    rep.on("message", (m: Buffer) => rep.send(`${m} back`));
    rep.connect(b);
    cap.connect(k);
    req.connect(f);
    const captured = messages(cap, 1);
    zmq.proxy(frontend, backend, capture);
    const reply = messages(req, 1);
    req.send("hi");
    assert.deepEqual(await reply, [["hi back"]]);
    assert.deepEqual(await captured, [["hi back"]]);
  } finally {
    closeAll(frontend, backend, capture, req, rep, cap);
  }
});

test("compat proxy xpub/xsub forwards publications and subscriptions, with capture", async () => {
  const frontend = zmq.socket("xpub");
  const backend = zmq.socket("xsub");
  const capture = zmq.socket("pub");
  const capSub = zmq.socket("sub");
  const sub = zmq.socket("sub");
  const pub = zmq.socket("pub");
  try {
    const k = await bound(capture, tcp);
    const f = await bound(frontend, tcp);
    const b = await bound(backend, tcp);
    sub.subscribe("");
    capSub.subscribe("");
    const got = messages(sub, 1);
    const capGot = messages(capSub, 1);
    pub.connect(b);
    sub.connect(f);
    capSub.connect(k);
    zmq.proxy(frontend, backend, capture);
    await delay(100);
    pub.send("foo");
    assert.deepEqual(await got, [["foo"]]);
    assert.deepEqual(await capGot, [["foo"]]);
  } finally {
    closeAll(frontend, backend, capture, capSub, sub, pub);
  }
});

test("compat stream socket serves a raw HTTP request", async () => {
  const stream = zmq.socket("stream");
  try {
    stream.on("message", (id: Buffer, msg: Buffer) => {
      if (msg.length === 0) return;
      assert.equal(String(msg).split("\r\n")[0]!.split(" ")[0], "GET");
      stream.send([id, "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<p>derpin over protocols</p>"]);
      stream.send([id, ""]); // close the connection
    });
    const ep = await bound(stream, tcp);
    const body = await within(
      new Promise<string>((resolve, reject) => {
        http.get(`${ep.replace("tcp:", "http:")}/aRandomRequestPath`, (res) => {
          let data = "";
          res.on("data", (d: Buffer) => (data += d));
          res.on("end", () => resolve(data));
          res.on("error", reject);
        }).on("error", reject);
      }),
      3000,
      "HTTP response",
    );
    assert.equal(body, "<p>derpin over protocols</p>");
  } finally {
    stream.close();
  }
});

test("compat unbind stops delivery from that endpoint", async () => {
  const a = zmq.socket("pull");
  const b = zmq.socket("push", { linger: 0 });
  try {
    const ep = inproc();
    await bound(a, ep);
    b.connect(ep);
    const got = messages(a, 1);
    b.send("before");
    assert.deepEqual(await got, [["before"]]);
    const unbound = next(a, "unbind");
    await within(new Promise<void>((resolve, reject) => a.unbind(ep, (err) => (err ? reject(err) : resolve()))), 3000, "unbind");
    assert.equal((await unbound)[0], ep);
  } finally {
    closeAll(a, b);
  }
});
