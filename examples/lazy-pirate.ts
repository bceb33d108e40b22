/**
 * Lazy Pirate (the Guide, chapter 4): client-side reliability for REQ/REP.
 * A REQ socket that sent a request and never gets a reply is stuck (it may not send
 * again). So the client polls with a timeout; on timeout it closes the socket (linger
 * 0: drop the unanswered request), opens a fresh one, and resends — up to N retries,
 * then gives up. The server here is flaky on purpose: it ignores some requests and
 * "crashes" (closes its socket and comes back on the same port a bit later).
 * Run: node --import tsx examples/lazy-pirate.ts
 */
import * as zmq from "../src/index.js";

const REQUEST_TIMEOUT = 250;   // ms
const RETRIES = 3;

/** Replies to most requests; loses the first reply to every 3rd; crashes on the first try of request 5. */
async function flakyServer(port: number, stop: AbortSignal): Promise<void> {
  const seen = new Set<string>();
  for (let life = 1; !stop.aborted; life++) {
    const rep = new zmq.Reply({ receiveTimeout: 100, linger: 0 });
    await rep.bind(`tcp://127.0.0.1:${port}`);
    console.log(`server: up (life ${life})`);
    let crash = false;
    while (!stop.aborted && !crash) {
      let request: Buffer;
      try {
        [request] = (await rep.receive()) as [Buffer];
      } catch (e) {
        if ((e as zmq.ZmqError).code === "EAGAIN") continue;  // receiveTimeout: check stop
        throw e;
      }
      const seq = Number(request.toString());
      const firstTry = !seen.has(request.toString());
      seen.add(request.toString());
      if (seq === 5 && firstTry) {
        console.log(`server: crashing on request ${request.toString()}`);
        crash = true;
      } else if (seq % 3 === 0 && firstTry) {
        console.log(`server: ignoring request ${request.toString()}`);
        // A REP must reply before it can receive again: simulate the lost reply by
        // answering after the client has already given up on this one (its new
        // socket never sees the late reply; REQ drops replies to other sockets).
        await new Promise((r) => setTimeout(r, REQUEST_TIMEOUT * 1.5));
        await rep.send(request);
      } else {
        await rep.send(request);
      }
    }
    rep.close();
    if (crash) await new Promise((r) => setTimeout(r, REQUEST_TIMEOUT * 1.5));
  }
}

async function lazyPirateClient(endpoint: string, requests: number): Promise<number> {
  let ok = 0;
  let req = new zmq.Request({ receiveTimeout: REQUEST_TIMEOUT, linger: 0 });
  req.connect(endpoint);
  for (let seq = 1; seq <= requests; seq++) {
    let retriesLeft = RETRIES;
    await req.send(String(seq));
    for (;;) {
      try {
        const [reply] = await req.receive();
        if (Number(reply!.toString()) === seq) {
          console.log(`client: server replied OK (${seq})`);
          ok++;
          break;
        }
        console.log(`client: malformed reply ${reply!.toString()}`);
      } catch (e) {
        if ((e as zmq.ZmqError).code !== "EAGAIN") throw e;
        retriesLeft--;
        // The socket is confused (a request without reply): close it and open another.
        req.close();
        if (retriesLeft === 0) {
          console.log("client: server seems to be offline, abandoning");
          return ok;
        }
        console.log(`client: no response to ${seq}, retrying (${retriesLeft} left)`);
        req = new zmq.Request({ receiveTimeout: REQUEST_TIMEOUT, linger: 0 });
        req.connect(endpoint);
        await req.send(String(seq));
      }
    }
  }
  req.close();
  return ok;
}

async function main(): Promise<void> {
  const probe = new zmq.Reply();
  const port = await probe.bindToRandomPort("tcp://127.0.0.1");
  probe.close();
  await new Promise((r) => setTimeout(r, 20));

  const stop = new AbortController();
  const server = flakyServer(port, stop.signal);
  const ok = await lazyPirateClient(`tcp://127.0.0.1:${port}`, 8);
  console.log(`lazy pirate: ${ok}/8 requests answered despite lost replies and a server restart`);
  stop.abort();
  await server;
}

main().catch((e) => { console.error(e); process.exit(1); });
