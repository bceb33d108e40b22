/**
 * Records what a real libzmq peer (the npm `zeromq` package) sends on a NULL connection —
 * its greeting, READY and a few messages — as it connects to a raw TCP server that plays
 * the other side of the pattern. Run: node --import tsx test/reliability/data/record.ts
 * Output: null-<type>.bin per peer type (PUSH→PULL, DEALER→ROUTER, PUB→SUB).
 */
import { createServer } from "node:net";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as zeromq from "zeromq";
import { encodeGreeting } from "../../../src/wire/greeting.js";
import { encodeCommandFrame, encodeMetadata, encodeSubscribe } from "../../../src/wire/commands.js";

const here = fileURLToPath(new URL(".", import.meta.url));

async function record(
  name: string,
  ourType: string,
  make: () => zeromq.Push | zeromq.Dealer | zeromq.Publisher,
): Promise<void> {
  const chunks: Buffer[] = [];
  const server = createServer((s) => {
    s.write(encodeGreeting("NULL", true));
    s.write(encodeCommandFrame("READY", encodeMetadata([["Socket-Type", Buffer.from(ourType)]])));
    if (ourType === "SUB") s.write(encodeSubscribe(Buffer.alloc(0)));
    s.on("data", (c: Buffer) => chunks.push(c));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const sock = make();
  sock.linger = 1000;
  sock.connect(`tcp://127.0.0.1:${port}`);
  await new Promise((r) => setTimeout(r, 300)); // handshake (and, for PUB, the subscription)
  await sock.send("hello");
  await sock.send(["multi", "part", ""]);
  await sock.send(Buffer.alloc(300, 0x61)); // a long frame
  await new Promise((r) => setTimeout(r, 300));
  sock.close();
  server.close();
  const all = Buffer.concat(chunks);
  writeFileSync(`${here}/null-${name}.bin`, all);
  console.log(`${name}: ${all.length} bytes from libzmq ${zeromq.version}`);
}

await record("push", "PULL", () => new zeromq.Push());
await record("dealer", "ROUTER", () => new zeromq.Dealer({ routingId: "dealer-1" }));
await record("pub", "SUB", () => new zeromq.Publisher());
process.exit(0);
