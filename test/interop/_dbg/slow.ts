import { Peer } from "../peer.js";
import * as zmq from "zeromq";
const B1M = Buffer.alloc(1 << 20, 7);
const MSGS = [[Buffer.from("head"), Buffer.alloc(0), B1M], [Buffer.from("single")], [Buffer.alloc(0)]];
for (let k = 0; k < 80; k++) {
  const t0 = Date.now(); const log: string[] = [];
  const mark = (s: string) => log.push(`${s}@${Date.now() - t0}`);
  const s = new zmq.Request({ linger: 0, receiveTimeout: 5000, sendTimeout: 5000 });
  await s.bind("tcp://127.0.0.1:*");
  const peer = await Peer.start("zeromq.js", { type: "REP", mode: "connect", endpoint: s.lastEndpoint! });
  mark("started");
  for (const m of MSGS) {
    await s.send(m); mark("sent");
    await peer.receive(5000); mark("peer got");
    await peer.send([Buffer.from("re")]); mark("peer sent");
    await s.receive(); mark("got reply");
  }
  s.close(); await peer.close(); mark("closed");
  if (Date.now() - t0 > 1500) console.log(k, log.join(" "));
}
console.log("done");
