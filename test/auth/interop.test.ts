/**
 * Ironhouse across implementations: certificates made by our createCertificates, a
 * pyzmq 24 (libzmq 4.3.4) CURVE client loading them with zmq.auth.load_certificate,
 * our CURVE server guarded by our Authenticator reading the same directory.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as zmq from "../../src/index.js";
import { Authenticator, createCertificates, loadCertificate } from "../../src/auth/index.js";
import { within } from "../helpers/util.js";

const PEER = fileURLToPath(new URL("./peers/curve_client.py", import.meta.url));
const T = 8000;

/** Runs the pyzmq client to completion; resolves with its JSON line. Killed in finally. */
async function pyClient(spec: object): Promise<{ reply?: string[]; error?: string }> {
  let child: ChildProcess | undefined;
  try {
    const out = new Promise<string>((resolve, reject) => {
      child = spawn("/usr/bin/python3", [PEER, JSON.stringify(spec)], { stdio: ["ignore", "pipe", "inherit"] });
      let text = "";
      child.stdout!.on("data", (d: Buffer) => (text += d.toString()));
      child.once("error", reject);
      child.once("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(`python client exited with ${code}: ${text}`))));
    });
    return JSON.parse(await within(out, T, "the pyzmq client")) as { reply?: string[]; error?: string };
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}

describe("CURVE with pyzmq 24 and our certificates", () => {
  test("a pyzmq client with a certificate in the directory is let in (User-Id and metadata reach us); one outside is refused", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zmq-ts-ironhouse-"));
    const elsewhere = mkdtempSync(join(tmpdir(), "zmq-ts-stranger-"));
    const ctx = new zmq.Context();
    const auth = new Authenticator({ context: ctx });
    let rep: zmq.Reply | undefined;
    try {
      const server = createCertificates(dir, "server");
      const client = createCertificates(dir, "client", { name: "py-client" });
      const stranger = createCertificates(elsewhere, "stranger");
      auth.configureCurve(dir);
      await within(auth.start(), T, "auth.start()");

      const serverCert = loadCertificate(server.secretFile);
      rep = new zmq.Reply({ context: ctx, curveServer: true, curveSecretKey: serverCert.secretKey!, linger: 0 });
      await rep.bind("tcp://127.0.0.1:*");
      const sock = rep;
      const refusals: number[] = [];
      sock.events.on("handshake:error:auth", (e) => refusals.push(e.error.status));
      void (async () => {
        try {
          for (;;) {
            const [msg] = await sock.receiveFrames();
            await sock.send([`echo:${msg!.buffer.toString()}`, msg!.get("User-Id") ?? "", msg!.get("name") ?? ""]);
          }
        } catch {
          /* closed */
        }
      })();

      const good = await pyClient({ endpoint: rep.lastEndpoint, client_secret_file: client.secretFile, server_public_file: server.publicFile });
      assert.deepEqual(good, { reply: ["echo:ping", client.publicKey, "py-client"] });

      const bad = await pyClient({ endpoint: rep.lastEndpoint, client_secret_file: stranger.secretFile, server_public_file: server.publicFile, timeout_ms: 700 });
      assert.deepEqual(bad, { error: "timeout" });
      assert.ok(refusals.length > 0 && refusals.every((s) => s === 400), `server auth refusals: ${JSON.stringify(refusals)}`);
    } finally {
      rep?.close();
      auth.stop();
      rmSync(dir, { recursive: true, force: true });
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
