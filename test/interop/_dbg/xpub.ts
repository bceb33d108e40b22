import { Peer } from "../peer.js";
import * as zmq from "zeromq";
for (let k = 0; k < 6; k++) {
  const s = new zmq.XPublisher({ linger: 0, receiveTimeout: 2000 });
  const peer = await Peer.start(k % 2 ? "python" : "zeromq.js", { type: "XSUB", mode: "bind", endpoint: "tcp://127.0.0.1:*" });
  s.connect(peer.endpoint);
  if (k >= 4) await new Promise(r => setTimeout(r, 200));
  await peer.subscribe("A");
  try { console.log(k, await s.receive()); } catch (e) { console.log(k, "timeout", (e as any).code); }
  s.close(); await peer.close();
}
