/**
 * CURVE certificate files (pyzmq's zmq.auth.certs, czmq's zcert): the ZPL reader and
 * writer, and both directions against pyzmq 24 itself (/usr/bin/python3).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, statSync, mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as zmq from "../../src/index.js";
import { createCertificates, loadCertificate, loadCertificates } from "../../src/auth/index.js";
import { parseZpl, parseCertificate, formatCertificate } from "../../src/auth/certs.js";
import { within } from "../helpers/util.js";

const T = 8000;

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "zmq-ts-certs-"));
}

/** Runs a python snippet with pyzmq; resolves with its stdout. */
function python(code: string, ...args: string[]): Promise<string> {
  let child: ReturnType<typeof execFile> | undefined;
  const run = new Promise<string>((resolve, reject) => {
    child = execFile("/usr/bin/python3", ["-c", code, ...args], { timeout: T }, (err, stdout, stderr) => {
      if (err) reject(new Error(`python failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
  return within(run, T, "python").finally(() => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
  });
}

const KEYS = zmq.curveKeyPair();

describe("ZPL reader", () => {
  test("sections, properties, quoted and unquoted values, comments", () => {
    const entries = parseZpl([
      "# a comment",
      "",
      "metadata",
      "    name = plain value with spaces   # trailing comment",
      "    quoted = \"a # not a comment\"  # but this is",
      "    single = 'say \"hi\"'",
      "curve",
      "    public-key = \"abc\"",
      "context",
      "    iothreads = 1",
      "    verbose",
      "        deep = x",
    ].join("\n"));
    assert.deepEqual(entries.map((e) => [e.path.join("/"), e.value]), [
      ["metadata", null],
      ["metadata/name", "plain value with spaces"],
      ["metadata/quoted", "a # not a comment"],
      ["metadata/single", "say \"hi\""],
      ["curve", null],
      ["curve/public-key", "abc"],
      ["context", null],
      ["context/iothreads", "1"],
      ["context/verbose", null],
      ["context/verbose/deep", "x"],
    ]);
  });

  test("a czmq-written certificate (quoted metadata, CZMQ banner) with CRLF, a BOM and tabs", () => {
    const text = "\uFEFF" + [
      "#   ****  Generated on 2024-05-01 10:00:00 by CZMQ  ****",
      "#   ZeroMQ CURVE **Secret** Certificate",
      "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.",
      "",
      "metadata",
      "\tname = \"Alice Smith\"",
      "    email = \"alice@example.com\"",
      "curve",
      `    public-key = "${KEYS.publicKey}"`,
      `    secret-key = "${KEYS.secretKey}"`,
      "",
    ].join("\r\n");
    assert.deepEqual(parseCertificate(text), {
      publicKey: KEYS.publicKey,
      secretKey: KEYS.secretKey,
      metadata: { name: "Alice Smith", email: "alice@example.com" },
    });
  });

  test("a Z85 key holding '#' survives unquoted; a public certificate has a null secret key", () => {
    const key = "0000#".repeat(8); // "#" is a Z85 digit
    const cert = parseCertificate(`curve\n    public-key = ${key}\n`);
    assert.equal(cert.publicKey, key);
    assert.equal(cert.secretKey, null);
    assert.deepEqual(cert.metadata, {});
  });

  test("no public key, or a key that is not 40 Z85 characters: an error naming the file", () => {
    assert.throws(() => parseCertificate("metadata\ncurve\n", "x.key"), /No public key found in x\.key/);
    assert.throws(() => parseCertificate("curve\n    public-key = \"short\"\n", "y.key"), /40 Z85/);
    assert.throws(() => parseCertificate(`curve\n    public-key = "${KEYS.publicKey}"\n    secret-key = "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~"\n`), /secret key/);
    assert.throws(() => parseCertificate("-----BEGIN PRIVATE KEY-----\nMIIEvQ...\n-----END PRIVATE KEY-----\n"), /No public key/);
  });
});

describe("certificate writer", () => {
  test("the public and secret files have pyzmq's layout, czmq's quoting; the secret file is 0600", () => {
    const dir = tempDir();
    try {
      const made = createCertificates(dir, "server", { name: "server one", role: "broker" });
      assert.equal(made.publicFile, join(dir, "server.key"));
      assert.equal(made.secretFile, join(dir, "server.key_secret"));
      assert.equal(zmq.publicKeyFromSecret(made.secretKey), made.publicKey);
      const pub = readFileSync(made.publicFile, "utf8");
      assert.match(pub, new RegExp([
        "^#   \\*\\*\\*\\*  Generated on \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d by zmq-ts  \\*\\*\\*\\*",
        "#   ZeroMQ CURVE Public Certificate",
        "#   Exchange securely, or use a secure mechanism to verify the contents",
        "#   of this file after exchange. Store public certificates in your home",
        "#   directory, in the .curve subdirectory.",
        "",
        "metadata",
        "    name = \"server one\"",
        "    role = \"broker\"",
        "curve",
        `    public-key = "${made.publicKey.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}"`,
        "$",
      ].join("\n")));
      const sec = readFileSync(made.secretFile, "utf8");
      assert.ok(sec.includes("#   ZeroMQ CURVE **Secret** Certificate\n#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.\n\nmetadata\n"));
      assert.ok(sec.endsWith(`curve\n    public-key = "${made.publicKey}"\n    secret-key = "${made.secretKey}"\n`));
      assert.equal(statSync(made.secretFile).mode & 0o777, 0o600);
      assert.deepEqual(loadCertificate(made.secretFile), { publicKey: made.publicKey, secretKey: made.secretKey, metadata: { name: "server one", role: "broker" } });
      assert.deepEqual(loadCertificate(made.publicFile), { publicKey: made.publicKey, secretKey: null, metadata: { name: "server one", role: "broker" } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("metadata that ZPL cannot hold is refused before anything is written", () => {
    assert.throws(() => formatCertificate({ publicKey: KEYS.publicKey, metadata: { "has space": "x" } }), RangeError);
    assert.throws(() => formatCertificate({ publicKey: KEYS.publicKey, metadata: { ok: "two\nlines" } }), RangeError);
    assert.throws(() => formatCertificate({ publicKey: "nope" }), RangeError);
    assert.match(formatCertificate({ publicKey: KEYS.publicKey, metadata: { q: 'say "hi"' } }), /    q = 'say "hi"'\n/);
  });

  test("loadCertificates: every *.key file with its metadata; secret files, hidden files and non-certificates left out", () => {
    const dir = tempDir();
    try {
      const a = createCertificates(dir, "alice", { name: "alice" });
      const b = createCertificates(dir, "bob");
      writeFileSync(join(dir, "tls.key"), "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n");
      writeFileSync(join(dir, ".hidden.key"), formatCertificate({ publicKey: KEYS.publicKey }));
      writeFileSync(join(dir, "notes.txt"), formatCertificate({ publicKey: KEYS.publicKey }));
      mkdirSync(join(dir, "sub.key"));
      const skipped: string[] = [];
      const certs = loadCertificates(dir, { onError: (file) => skipped.push(file) });
      assert.deepEqual([...certs.keys()].sort(), [a.publicKey, b.publicKey].sort());
      assert.deepEqual(certs.get(a.publicKey), { name: "alice" });
      assert.deepEqual(certs.get(b.publicKey), {});
      assert.deepEqual(skipped, [join(dir, "tls.key")]);
      assert.throws(() => loadCertificates(join(dir, "missing")), { code: "ENOENT" });
      assert.throws(() => loadCertificates(a.publicFile), /Invalid certificate directory/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("certificates with pyzmq 24", () => {
  test("files written by pyzmq's create_certificates are read by loadCertificate / loadCertificates", async () => {
    const dir = tempDir();
    try {
      const out = await python(
        "import sys, json, zmq.auth\n" +
        "pub, sec = zmq.auth.create_certificates(sys.argv[1], 'server', metadata={'name': 'py server', 'email': 'a@b.c'})\n" +
        "p, s = zmq.auth.load_certificate(sec)\n" +
        "print(json.dumps({'public': p.decode(), 'secret': s.decode()}))\n",
        dir,
      );
      const keys = JSON.parse(out) as { public: string; secret: string };
      const secret = loadCertificate(join(dir, "server.key_secret"));
      assert.equal(secret.publicKey, keys.public);
      assert.equal(secret.secretKey, keys.secret);
      assert.deepEqual(secret.metadata, { name: "py server", email: "a@b.c" }); // pyzmq writes them unquoted
      assert.equal(zmq.publicKeyFromSecret(secret.secretKey!), secret.publicKey);
      const pub = loadCertificate(join(dir, "server.key"));
      assert.deepEqual(pub, { publicKey: keys.public, secretKey: null, metadata: {} }); // pyzmq's public file has no metadata
      assert.deepEqual([...loadCertificates(dir).keys()], [keys.public]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("files written by our createCertificates are read by pyzmq's load_certificate and load_certificates", async () => {
    const dir = tempDir();
    try {
      const made = createCertificates(dir, "client", { name: "Client One", email: "c@example.com" });
      const out = await python(
        "import sys, json, zmq, zmq.auth\n" +
        "d = sys.argv[1]\n" +
        "p1, s1 = zmq.auth.load_certificate(d + '/client.key')\n" +
        "p2, s2 = zmq.auth.load_certificate(d + '/client.key_secret')\n" +
        "certs = zmq.auth.load_certificates(d)\n" +
        "print(json.dumps({'p1': p1.decode(), 's1': s1, 'p2': p2.decode(), 's2': s2.decode(),\n" +
        "  'dir': sorted(k.decode() for k in certs), 'derived': zmq.curve_public(s2).decode()}))\n",
        dir,
      );
      assert.deepEqual(JSON.parse(out), {
        p1: made.publicKey, s1: null, p2: made.publicKey, s2: made.secretKey, dir: [made.publicKey], derived: made.publicKey,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
