/** libzmq's monitor wire format (zmq_socket_monitor), as pyzmq's get_monitor_socket() users read it. */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as zmq from "../src/index.js";
import { within } from "./helpers/util.js";

const T = 5000;
const ZMQ_EVENT_CONNECTED = 1;
const ZMQ_EVENT_CONNECT_DELAYED = 2;
const ZMQ_EVENT_HANDSHAKE_SUCCEEDED = 4096;
const ZMQ_EVENT_DISCONNECTED = 512;
const ZMQ_EVENT_MONITOR_STOPPED = 1024;

test("getMonitorSocket(): connect, handshake, disconnect and stop in libzmq's two-frame format", async () => {
  const pull = new zmq.Pull();
  const push = new zmq.Push();
  const mon = push.getMonitorSocket();
  try {
    await pull.bind("tcp://127.0.0.1:*");
    push.connect(pull.lastEndpoint!);
    const seen: { event: number; value: number; endpoint: string }[] = [];
    const next = async () => {
      const m = zmq.parseMonitorMessage(await within(mon.receive(), T, "monitor event"));
      seen.push(m);
      return m;
    };
    while ((await next()).event !== ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    assert.deepEqual(seen.map((e) => e.event), [ZMQ_EVENT_CONNECT_DELAYED, ZMQ_EVENT_CONNECTED, ZMQ_EVENT_HANDSHAKE_SUCCEEDED]);
    assert.ok(seen.every((e) => e.endpoint === pull.lastEndpoint));
    pull.close();
    while ((await next()).event !== ZMQ_EVENT_DISCONNECTED);
    push.close();
    while ((await next()).event !== ZMQ_EVENT_MONITOR_STOPPED);
  } finally {
    pull.close();
    push.close();
    mon.close();
  }
});

test("the event mask filters, and a ZAP refusal carries its status as the value", async () => {
  const handler = new zmq.Router();
  await handler.bind("inproc://zeromq.zap.01");
  void (async () => {
    try {
      for await (const [id, empty, , reqId] of handler) await handler.send([id, empty, "1.0", reqId, "400", "no", "", ""]);
    } catch {
      /* closed */
    }
  })();
  const server = new zmq.Pull({ plainServer: true });
  const client = new zmq.Push({ plainUsername: "u", plainPassword: "p" });
  const mon = server.getMonitorSocket(16384 /* HANDSHAKE_FAILED_AUTH only */);
  try {
    await server.bind("tcp://127.0.0.1:*");
    client.connect(server.lastEndpoint!);
    const m = zmq.parseMonitorMessage(await within(mon.receive(), T, "auth failure event"));
    assert.deepEqual([m.event, m.value], [16384, 400]);
  } finally {
    server.close();
    client.close();
    mon.close();
    handler.close();
  }
});
