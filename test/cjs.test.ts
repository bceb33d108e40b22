/** zeromq.js is a CommonJS package: `require("zmq-ts")` must work as `require("zeromq")` does (the build makes dist/cjs). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

test("require('zmq-ts') works from CommonJS, CURVE included", () => {
  const script = `
    const zmq = require(${JSON.stringify(root)});
    const keys = zmq.curveKeyPair(), client = zmq.curveKeyPair();
    const a = new zmq.Pair({ curveServer: true, curveSecretKey: keys.secretKey, linger: 0 });
    const b = new zmq.Pair({ curveServerKey: keys.publicKey, curvePublicKey: client.publicKey, curveSecretKey: client.secretKey, linger: 0 });
    a.bind("tcp://127.0.0.1:*")
      .then(() => { b.connect(a.lastEndpoint); return b.send("over curve"); })
      .then(() => a.receive())
      .then((m) => { process.stdout.write(String(m[0])); a.close(); b.close(); });
    setTimeout(() => process.exit(3), 5000).unref();`;
  const out = execFileSync(process.execPath, ["-e", script], { cwd: root, timeout: 10_000, encoding: "utf8" });
  assert.equal(out, "over curve");
});
