/**
 * Request-reply: a REP server answers three REQ clients.
 * The server binds (it is the stable end); the clients connect. REQ enforces strict
 * send/receive alternation; REP answers whoever asked, in turn.
 * Run: node --import tsx examples/request-reply.ts
 */
import * as zmq from "../src/index.js";

async function server(rep: zmq.Reply, total: number): Promise<void> {
  for (let i = 0; i < total; i++) {
    const [question] = await rep.receive();
    const n = Number(question!.toString());
    await rep.send(String(n * n));
  }
}

async function client(name: string, endpoint: string, n: number): Promise<string> {
  const req = new zmq.Request({ receiveTimeout: 2000 });   // never wait forever for a reply
  req.connect(endpoint);
  await req.send(String(n));
  const [answer] = await req.receive();
  req.close();
  return `${name} asked ${n}, got ${answer!.toString()}`;
}

async function main(): Promise<void> {
  const rep = new zmq.Reply();
  await rep.bind("tcp://127.0.0.1:*");                     // "*": a free port, see lastEndpoint
  const endpoint = rep.lastEndpoint!;
  console.log(`server bound to ${endpoint}`);

  const served = server(rep, 3);
  const lines = await Promise.all([client("alice", endpoint, 3), client("bob", endpoint, 4), client("carol", endpoint, 5)]);
  for (const line of lines) console.log(line);
  await served;
  rep.close();
  console.log("request-reply: 3 requests answered");
}

main().catch((e) => { console.error(e); process.exit(1); });
