/** `require("zmq-ts/draft")` works from CommonJS as `require("zeromq/draft")` does (needs the build: dist/cjs). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { nodeForPeers } from "../helpers/runtime.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

test("require('zmq-ts/draft') gives the draft classes, and they talk", () => {
  const script = `
    const draft = require("zmq-ts/draft");
    const { capability } = require("zmq-ts");
    const server = new draft.Server({ linger: 0 }), client = new draft.Client({ linger: 0 });
    server.bind("tcp://127.0.0.1:*")
      .then(() => { client.connect(server.lastEndpoint); return client.send("over cjs"); })
      .then(() => server.receive())
      .then(([msg, { routingId }]) => {
        process.stdout.write([Object.keys(draft).sort().join(","), capability.draft, String(msg), typeof routingId].join("|"));
        server.close(); client.close();
      });
    setTimeout(() => process.exit(3), 5000).unref();`;
  const out = execFileSync(nodeForPeers, ["-e", script], { cwd: root, timeout: 10_000, encoding: "utf8" });
  assert.equal(out, "Channel,Client,Datagram,Dish,Gather,Peer,Radio,Scatter,Server|true|over cjs|number");
});
