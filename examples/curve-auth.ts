/**
 * CURVE encryption with an Authenticator (pyzmq's "ironhouse"): the server has a key
 * pair, each client has one, and the server's ZAP handler lets in only clients whose
 * public certificate is in its directory. Everything on the wire is encrypted and the
 * server knows who it talks to. A client with an unknown key ("mallory") is refused
 * during the handshake (handshake:error:auth, status 400) and never gets a message in.
 * Run: node --import tsx examples/curve-auth.ts
 */
import { mkdtempSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as zmq from "../src/index.js";

async function main(): Promise<void> {
  // Certificates as pyzmq/czmq write them: <name>.key (public) + <name>.key_secret.
  const base = mkdtempSync(join(tmpdir(), "zmq-ts-curve-"));
  const secrets = join(base, "private_keys");
  const allowed = join(base, "public_keys");              // the clients the server accepts
  mkdirSync(secrets);
  mkdirSync(allowed);
  zmq.createCertificates(secrets, "server");
  zmq.createCertificates(secrets, "alice", { name: "Alice" });
  zmq.createCertificates(secrets, "mallory");
  renameSync(join(secrets, "alice.key"), join(allowed, "alice.key"));

  try {
    const auth = new zmq.Authenticator();                 // ZAP handler in the default Context
    auth.allow("127.0.0.1");                              // address check first, then the key
    auth.configureCurve(allowed);                         // or zmq.CURVE_ALLOW_ANY: any key, still encrypted
    await auth.start();

    const serverCert = zmq.loadCertificate(join(secrets, "server.key_secret"));
    const server = new zmq.Router({ curveServer: true, curveSecretKey: serverCert.secretKey! });
    await server.bind("tcp://127.0.0.1:*");
    console.log(`server: CURVE server on ${server.lastEndpoint}`);

    const client = (name: string) => {
      const me = zmq.loadCertificate(join(secrets, `${name}.key_secret`));
      return new zmq.Dealer({
        routingId: name,
        curveServerKey: serverCert.publicKey,             // the client must know the server's public key
        curvePublicKey: me.publicKey,
        curveSecretKey: me.secretKey!,
      });
    };

    // Alice is in public_keys: accepted.
    const alice = client("alice");
    alice.connect(server.lastEndpoint!);
    await alice.send("hello from alice");
    const frames = await server.receiveFrames();          // Frames carry the connection's properties
    const userId = frames[1]!.get("User-Id");             // the ZAP handler's user id: the client's public key (Z85)
    console.log(`server: "${frames[1]!.buffer.toString()}" from ${frames[0]!.buffer.toString()}, User-Id ${userId} (alice's key: ${userId === zmq.loadCertificate(join(allowed, "alice.key")).publicKey})`);
    await server.send([frames[0]!.buffer, "welcome, alice"]);
    const [reply] = await alice.receive();
    console.log(`alice: got "${reply}"`);

    // Mallory's key is not in public_keys: refused in the handshake.
    const mallory = client("mallory");
    const refused = new Promise<zmq.EventOfType<"handshake:error:auth">>((resolve) =>
      mallory.events.on("handshake:error:auth", resolve));
    mallory.connect(server.lastEndpoint!);
    void mallory.send("let me in").catch(() => {});
    const event = await refused;
    console.log(`mallory: handshake refused: ${event.error.message} (status ${event.error.status})`);

    for (const s of [alice, mallory, server]) s.close();
    auth.stop();
    console.log("curve: alice accepted, mallory refused");
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
