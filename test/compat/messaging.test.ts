import { test } from "node:test";
import assert from "node:assert/strict";
import * as zmq from "../../src/compat/index.js";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { within, next, messages, bound, protos, inproc, tcp, delay, closeAll } from "./helpers.js";
import { tsCommand } from "../helpers/runtime.js";

for (const [proto, address] of protos) {
  test(`compat ${proto} req/rep with bind event and callbacks`, async () => {
    const rep = zmq.socket("rep");
    const req = zmq.socket("req");
    try {
      rep.on("message", (msg: Buffer) => {
        assert.ok(Buffer.isBuffer(msg));
        rep.send(`${msg}: world`);
      });
      const bindEvent = next(rep, "bind");
      const ep = await bound(rep, address());
      assert.equal(typeof (await bindEvent)[0], "string");
      req.connect(ep);
      assert.deepEqual(await new Promise((resolve) => req.send("hello", 0, (err) => resolve(err))), undefined);
      assert.deepEqual(await messages(req, 1), [["hello: world"]]);
      const second = messages(req, 1);
      req.send("again");
      assert.deepEqual(await second, [["again: world"]]);
    } finally {
      closeAll(req, rep);
    }
  });

  test(`compat ${proto} pub/sub with subscribe filters`, async () => {
    const pub = zmq.socket("pub");
    const sub = zmq.socket("sub");
    try {
      sub.subscribe("js");
      sub.subscribe("luna");
      const got = messages(sub, 2);
      const ep = await bound(sub, address());
      pub.connect(ep);
      await delay(50);
      for (const m of ["js is cool", "ruby is meh", "py is pretty cool", "luna is cool too"]) pub.send(m);
      assert.deepEqual(await got, [["js is cool"], ["luna is cool too"]]);
    } finally {
      closeAll(pub, sub);
    }
  });

  test(`compat ${proto} pub/sub with an empty subscription, then unsubscribe`, async () => {
    const pub = zmq.socket("pub");
    const sub = zmq.socket("sub");
    try {
      sub.subscribe("");
      const ep = await bound(sub, address());
      pub.connect(ep);
      await delay(50);
      const got = messages(sub, 3);
      pub.send("foo").send("bar").send("baz");
      assert.deepEqual(await got, [["foo"], ["bar"], ["baz"]]);
      sub.unsubscribe("");
      sub.setsockopt(zmq.ZMQ_SUBSCRIBE, "keep");
      await delay(50);
      const after = messages(sub, 1);
      pub.send("dropped").send("keep this");
      assert.deepEqual(await after, [["keep this"]]);
    } finally {
      closeAll(pub, sub);
    }
  });

  test(`compat ${proto} router/dealer burst of 1000 multipart messages`, async () => {
    const router = zmq.socket("router");
    const dealer = zmq.socket("dealer");
    try {
      router.on("message", (...msg: Buffer[]) => router.send(msg));
      const ep = await bound(router, address());
      let counted = 0;
      const done = within(
        new Promise<void>((resolve) => {
          dealer.on("message", (...parts: Buffer[]) => {
            assert.deepEqual(parts.map(String), ["Hello", "world", "part3", "part4"]);
            if (++counted === 1000) resolve();
          });
        }),
        8000,
        "1000 echoes",
      );
      dealer.connect(ep);
      for (let i = 0; i < 1000; i++) dealer.send(["Hello", "world", "part3", "part4"]);
      await done;
    } finally {
      closeAll(router, dealer);
    }
  });

  test(`compat ${proto} pair both ways`, async () => {
    const a = zmq.socket("pair");
    const b = zmq.socket("pair");
    try {
      const ep = await bound(a, address());
      b.connect(ep);
      const atB = messages(b, 1);
      const atA = messages(a, 1);
      a.send("from a");
      b.send(["from", "b"]);
      assert.deepEqual(await atB, [["from a"]]);
      assert.deepEqual(await atA, [["from", "b"]]);
    } finally {
      closeAll(a, b);
    }
  });
}

test("compat push/pull single-part messages of several kinds", async () => {
  const push = zmq.socket("push");
  const pull = zmq.socket("pull");
  try {
    const got = messages(pull, 3);
    const ep = inproc();
    pull.bindSync(ep);
    push.connect(ep);
    push.send("string");
    push.send(15.99);
    push.send(Buffer.from("buffer"));
    assert.deepEqual(await got, [["string"], ["15.99"], ["buffer"]]);
  } finally {
    closeAll(push, pull);
  }
});

test("compat push/pull multipart message", async () => {
  const push = zmq.socket("push");
  const pull = zmq.socket("pull");
  try {
    const got = messages(pull, 1);
    const ep = inproc();
    pull.bindSync(ep);
    push.connect(ep);
    push.send(["string", 15.99, Buffer.from("buffer")]);
    assert.deepEqual(await got, [["string", "15.99", "buffer"]]);
  } finally {
    closeAll(push, pull);
  }
});

test("compat ZMQ_SNDMORE accumulates parts into one message", async () => {
  const push = zmq.socket("push");
  const pull = zmq.socket("pull");
  try {
    const got = messages(pull, 2);
    const ep = inproc();
    pull.bindSync(ep);
    push.connect(ep);
    push.send(["tobi", "loki"], zmq.ZMQ_SNDMORE);
    push.send(["jane", "luna"], zmq.ZMQ_SNDMORE);
    push.send("manny");
    push.send("a", zmq.ZMQ_SNDMORE).send("b");
    assert.deepEqual(await got, [["tobi", "loki", "jane", "luna", "manny"], ["a", "b"]]);
  } finally {
    closeAll(push, pull);
  }
});

test("compat tcp late connect delivers messages sent before connect", async () => {
  const push = zmq.socket("push");
  const pull = zmq.socket("pull");
  try {
    push.setsockopt(zmq.ZMQ_SNDHWM, 1);
    pull.setsockopt(zmq.ZMQ_RCVHWM, 1);
    const got = messages(pull, 3);
    const ep = await bound(push, tcp);
    push.send("string");
    push.send(15.99);
    push.send(Buffer.from("buffer"));
    pull.connect(ep);
    assert.deepEqual(await got, [["string"], ["15.99"], ["buffer"]]);
  } finally {
    closeAll(push, pull);
  }
});

test("compat send callbacks are called once each message is sent", async () => {
  const push = zmq.socket("push");
  const pull = zmq.socket("pull");
  try {
    let callbacks = 0;
    const errors: unknown[] = [];
    const cb = (err?: Error) => {
      if (err) errors.push(err);
      callbacks++;
    };
    const got = messages(pull, 4);
    const ep = inproc();
    pull.bindSync(ep);
    push.connect(ep);
    push.send("hello", null, cb);
    push.send("hello", null, cb);
    push.send("hello", undefined, cb);
    push.send(["hello", "world"], 0, cb);
    await got;
    await within((async () => { while (callbacks < 4) await delay(2); })(), 2000, "4 callbacks");
    assert.equal(callbacks, 4);
    assert.deepEqual(errors, []);
  } finally {
    closeAll(push, pull);
  }
});

test("compat a throwing message handler does not stop delivery", async () => {
  // In a child process of this runtime: see the fixture for why.
  const [cmd, args] = tsCommand(fileURLToPath(new URL("../fixtures/compat-throwing-handler.ts", import.meta.url)));
  const { stdout, code } = await within(new Promise<{ stdout: string; code: number | null }>((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.on("error", reject);
    child.on("close", (c) => resolve({ stdout: out, code: c }));
  }), 20000, "the throwing-handler child");
  const result = JSON.parse(stdout.trim().split("\n").pop()!) as { got: string[]; caught: string[]; error?: string };
  assert.equal(code, 0, result.error);
  assert.deepEqual(result.got, ["foo", "bar"]);
  assert.equal(result.caught[0], "test error");
});

test("compat pause() holds messages and resume() delivers them in order", async () => {
  const push = zmq.socket("push");
  const pull = zmq.socket("pull");
  try {
    const got: string[] = [];
    pull.on("message", (m: Buffer) => got.push(String(m)));
    const ep = inproc();
    pull.bindSync(ep);
    push.connect(ep);
    const first = within((async () => { while (got.length < 1) await delay(2); })(), 2000, "first");
    push.send("1");
    await first;
    pull.pause();
    push.send("2").send("3");
    await delay(50);
    assert.deepEqual(got, ["1"]);
    pull.resume();
    await within((async () => { while (got.length < 3) await delay(2); })(), 2000, "after resume");
    assert.deepEqual(got, ["1", "2", "3"]);
  } finally {
    closeAll(push, pull);
  }
});

test("compat pause() on the sender holds sends until resume()", async () => {
  const push = zmq.socket("push");
  const pull = zmq.socket("pull");
  try {
    const got: string[] = [];
    pull.on("message", (m: Buffer) => got.push(String(m)));
    const ep = inproc();
    pull.bindSync(ep);
    push.connect(ep);
    push.pause();
    push.send("a").send("b");
    await delay(50);
    assert.deepEqual(got, []);
    push.resume();
    await within((async () => { while (got.length < 2) await delay(2); })(), 2000, "resumed sends");
    assert.deepEqual(got, ["a", "b"]);
  } finally {
    closeAll(push, pull);
  }
});

test("compat sockets with no message listener do not consume messages", async () => {
  const push = zmq.socket("push");
  const pull = zmq.socket("pull");
  try {
    const ep = inproc();
    pull.bindSync(ep);
    push.connect(ep);
    push.send("kept");
    await delay(30);
    const got = messages(pull, 1);
    assert.deepEqual(await got, [["kept"]]);
  } finally {
    closeAll(push, pull);
  }
});
