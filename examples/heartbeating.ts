/**
 * Heartbeating (ZMTP PING/PONG): detect a peer that is gone without the TCP connection
 * saying so — a frozen process, a pulled cable, a NAT that forgot the flow. Without
 * heartbeats such a connection looks alive forever and messages queue into it.
 *
 * Here a small TCP relay sits between a DEALER and a ROUTER and then "freezes" (keeps
 * the connection open but forwards nothing). The DEALER, with heartbeatInterval 100 ms
 * and heartbeatTimeout 400 ms, gets no PONG, drops the connection (a "disconnect"
 * event) and redials; the relay lets the new connection through and traffic resumes.
 * Run: node --import tsx examples/heartbeating.ts
 */
import * as net from "node:net";
import * as zmq from "../src/index.js";

/** A relay that can freeze its current connections (silently stop forwarding). */
function relay(targetPort: number): Promise<{ port: number; freeze(): void; close(): void }> {
  const live: { a: net.Socket; b: net.Socket; frozen: boolean }[] = [];
  const server = net.createServer((a) => {
    const b = net.connect(targetPort, "127.0.0.1");
    const pair = { a, b, frozen: false };
    live.push(pair);
    a.on("data", (d) => { if (!pair.frozen) b.write(d); });
    b.on("data", (d) => { if (!pair.frozen) a.write(d); });
    const end = () => { a.destroy(); b.destroy(); };
    a.on("close", end); b.on("close", end); a.on("error", end); b.on("error", end);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({
    port: (server.address() as net.AddressInfo).port,
    freeze: () => { for (const p of live) p.frozen = true; },
    close: () => { for (const p of live) { p.a.destroy(); p.b.destroy(); } server.close(); },
  })));
}

async function main(): Promise<void> {
  const router = new zmq.Router();
  await router.bind("tcp://127.0.0.1:*");
  const routerPort = Number(router.lastEndpoint!.split(":").pop());
  const proxy = await relay(routerPort);

  const dealer = new zmq.Dealer({
    routingId: "client",
    heartbeatInterval: 100,     // send a PING every 100 ms of silence
    heartbeatTimeout: 400,      // no traffic for 400 ms after a PING: the peer is gone
    reconnectInterval: 100,
  });
  const t0 = Date.now();
  const log = (s: string) => console.log(`${String(Date.now() - t0).padStart(5)} ms  ${s}`);
  let handshakes = 0;
  const disconnected = new Promise<void>((resolve) => dealer.events.on("disconnect", (e) => { log(`event: disconnect ${e.address}`); resolve(); }));
  const reconnected = new Promise<void>((resolve) => dealer.events.on("handshake", () => { if (++handshakes === 2) resolve(); }));
  dealer.events.on("handshake", (e) => log(`event: handshake ${e.address}`));
  dealer.connect(`tcp://127.0.0.1:${proxy.port}`);

  await dealer.send("ping 1");
  const [id, body] = await router.receive();
  log(`router got "${body}" from ${id}`);

  proxy.freeze();
  log("relay frozen: the TCP connection stays open, nothing gets through");
  await disconnected;
  log("the dealer noticed by heartbeat timeout and dropped the connection");

  await reconnected;
  await dealer.send("ping 2");
  const [, body2] = await router.receive();
  log(`after reconnecting, router got "${body2}"`);
  console.log("heartbeating: dead connection detected and replaced");

  dealer.close();
  router.close();
  proxy.close();
}

main().catch((e) => { console.error(e); process.exit(1); });
