import { Peer } from "../peer.js";
for (const kind of ["zeromq.js", "python"] as const) {
  for (const ep of ["tcp://127.0.0.1:*", `ipc:///tmp/dbg-${process.pid}-${kind}.ipc`]) {
    let t = Date.now();
    const p = await Peer.start(kind, { type: "PULL", mode: "bind", endpoint: ep });
    const t1 = Date.now() - t; t = Date.now();
    await p.restart();
    const t2 = Date.now() - t; t = Date.now();
    await p.close();
    console.log(kind, ep.slice(0, 4), "start", t1, "restart", t2, "close", Date.now() - t);
  }
}
