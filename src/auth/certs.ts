/**
 * CURVE certificates on disk, as pyzmq's zmq.auth.certs and czmq's zcert keep them:
 * ZPL text files (ZeroMQ Property Language, rfc.zeromq.org/spec/4) named
 * `<name>.key` (public) and `<name>.key_secret` (public + secret), e.g.
 *
 *     #   ****  Generated on 2024-05-01 12:00:00 by zmq-ts  ****
 *     #   ZeroMQ CURVE **Secret** Certificate
 *     #   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.
 *
 *     metadata
 *         name = "alice"
 *     curve
 *         public-key = "<40 Z85 characters>"
 *         secret-key = "<40 Z85 characters>"
 *
 * The reader takes what pyzmq, czmq and zmq-ts write (quoted or unquoted values,
 * trailing comments, CRLF, a BOM). The writer writes czmq's layout: pyzmq's banner
 * text, metadata values quoted, the metadata in the public file too (as czmq does,
 * so a server reading public certificates sees it), the secret file with mode 0600.
 */
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { curveKeyPair } from "../crypto/keys.js";
import { z85Decode } from "../crypto/z85.js";

/** A certificate as read from a file: keys as 40 Z85 characters. */
export interface Certificate {
  publicKey: string;
  /** null when the file holds only the public key. */
  secretKey: string | null;
  /** The `metadata` section, in file order. */
  metadata: Record<string, string>;
}

/** What createCertificates wrote. */
export interface CreatedCertificates {
  publicFile: string;
  secretFile: string;
  publicKey: string;
  secretKey: string;
}

export interface LoadCertificatesOptions {
  /** Called for each `*.key` file that is skipped because it cannot be read as a certificate. */
  onError?: (file: string, error: Error) => void;
}

const PUBLIC_BANNER = [
  "   ZeroMQ CURVE Public Certificate",
  "   Exchange securely, or use a secure mechanism to verify the contents",
  "   of this file after exchange. Store public certificates in your home",
  "   directory, in the .curve subdirectory.",
];
const SECRET_BANNER = [
  "   ZeroMQ CURVE **Secret** Certificate",
  "   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.",
];

// ---- ZPL ------------------------------------------------------------------------

/** A ZPL property: its path ("curve/public-key") and value. Sections have no value. */
interface ZplEntry {
  path: string[];
  value: string | null;
}

/**
 * Parses ZPL text into entries in file order. Indentation is 4 spaces per level (a tab
 * counts as 4); `name = value` is a property, a bare `name` a section. Quoted values
 * ("..." or '...') end at the matching quote; unquoted ones run to the end of the line
 * or to a `#` comment preceded by whitespace (Z85 text itself may contain `#`).
 * Lines that are not ZPL are skipped, as pyzmq's reader skips them.
 */
export function parseZpl(text: string): ZplEntry[] {
  const entries: ZplEntry[] = [];
  const stack: string[] = [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n|\r/);
  for (const raw of lines) {
    const line = raw.replace(/\t/g, "    ").replace(/\s+$/, "");
    const body = line.trimStart();
    if (body === "" || body.startsWith("#")) continue;
    // Deeper than any open section is not ZPL; read it one level below the last one.
    const level = Math.min(Math.floor((line.length - body.length) / 4), stack.length);
    const eq = body.indexOf("=");
    let name: string;
    let value: string | null = null;
    if (eq < 0) {
      name = body.split(/[\s#]/, 1)[0]!;
    } else {
      name = body.slice(0, eq).trim();
      value = parseValue(body.slice(eq + 1));
      if (value === null) continue;
    }
    if (name === "") continue;
    stack.length = level;
    stack.push(name);
    entries.push({ path: [...stack], value });
  }
  return entries;
}

function parseValue(rest: string): string | null {
  const v = rest.trimStart();
  const q = v[0];
  if (q === '"' || q === "'") {
    const end = v.indexOf(q, 1);
    return end < 0 ? null : v.slice(1, end);
  }
  const comment = v.search(/\s#/);
  return (comment < 0 ? v : v.slice(0, comment)).trim();
}

const ZPL_NAME = /^[A-Za-z0-9$\-_@.&+/]+$/;

/** Formats one ZPL value: double-quoted, or single-quoted if it holds a double quote. */
function zplValue(value: string, what: string): string {
  if (/[\r\n]/.test(value)) throw new RangeError(`${what}: a ZPL value cannot span lines`);
  if (!value.includes('"')) return `"${value}"`;
  if (!value.includes("'")) return `'${value}'`;
  throw new RangeError(`${what}: a ZPL value cannot hold both kinds of quote`);
}

function timestamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** The text of a certificate file (secret when `secretKey` is given). */
export function formatCertificate(cert: { publicKey: string; secretKey?: string | null; metadata?: Record<string, string> }): string {
  checkKey(cert.publicKey, "public key");
  if (cert.secretKey) checkKey(cert.secretKey, "secret key");
  const banner = cert.secretKey ? SECRET_BANNER : PUBLIC_BANNER;
  let out = `#   ****  Generated on ${timestamp()} by zmq-ts  ****\n`;
  for (const line of banner) out += `#${line}\n`;
  out += "\nmetadata\n";
  for (const [k, v] of Object.entries(cert.metadata ?? {})) {
    if (!ZPL_NAME.test(k) || k.startsWith("/") || k.endsWith("/")) {
      throw new RangeError(`metadata name ${JSON.stringify(k)} is not a ZPL name (letters, digits, $-_@.&+/)`);
    }
    out += `    ${k} = ${zplValue(String(v), `metadata ${k}`)}\n`;
  }
  out += "curve\n";
  out += `    public-key = "${cert.publicKey}"\n`;
  if (cert.secretKey) out += `    secret-key = "${cert.secretKey}"\n`;
  return out;
}

function checkKey(key: string, what: string): void {
  let ok = typeof key === "string" && key.length === 40;
  if (ok) {
    try {
      z85Decode(key);
    } catch {
      ok = false;
    }
  }
  if (!ok) throw new RangeError(`${what} must be 40 Z85 characters`);
}

/** Reads a certificate from ZPL text; `source` names it in errors. */
export function parseCertificate(text: string, source = "certificate"): Certificate {
  const entries = parseZpl(text);
  const find = (section: string, name: string): string | null => {
    const exact = entries.find((e) => e.value !== null && e.path.length === 2 && e.path[0] === section && e.path[1] === name);
    // pyzmq finds the key on any line; take one outside the curve section as a last resort.
    const loose = exact ?? entries.find((e) => e.value !== null && e.path[e.path.length - 1] === name);
    return loose?.value ?? null;
  };
  const publicKey = find("curve", "public-key");
  if (publicKey === null || publicKey === "") throw new Error(`No public key found in ${source}`);
  checkKey(publicKey, `public key in ${source}`);
  let secretKey = find("curve", "secret-key");
  if (secretKey === "") secretKey = null;
  if (secretKey !== null) checkKey(secretKey, `secret key in ${source}`);
  const metadata: Record<string, string> = {};
  for (const e of entries) {
    if (e.value !== null && e.path.length === 2 && e.path[0] === "metadata") metadata[e.path[1]!] = e.value;
  }
  return { publicKey, secretKey, metadata };
}

// ---- files ----------------------------------------------------------------------

/**
 * pyzmq's create_certificates: a new key pair written to `<dir>/<name>.key` (public)
 * and `<dir>/<name>.key_secret` (public + secret, mode 0600). Existing files are
 * replaced. `metadata` goes into both files.
 */
export function createCertificates(dir: string, name: string, metadata?: Record<string, string>): CreatedCertificates {
  const { publicKey, secretKey } = curveKeyPair();
  const base = join(dir, name);
  const publicFile = `${base}.key`;
  const secretFile = `${base}.key_secret`;
  const publicText = formatCertificate({ publicKey, metadata });
  const secretText = formatCertificate({ publicKey, secretKey, metadata });
  writeFileSync(publicFile, publicText, { encoding: "utf8" });
  writeFileSync(secretFile, secretText, { encoding: "utf8", mode: 0o600 });
  chmodSync(secretFile, 0o600); // also when the file existed before
  return { publicFile, secretFile, publicKey, secretKey };
}

/**
 * pyzmq's load_certificate: the keys (Z85) of a certificate file written by pyzmq,
 * czmq or zmq-ts; `secretKey` is null for a public certificate. Throws when the file
 * cannot be read or holds no valid public key.
 */
export function loadCertificate(path: string): Certificate {
  return parseCertificate(readFileSync(path, "utf8"), path);
}

/**
 * pyzmq's load_certificates: the public keys of every `*.key` file in `dir` (not the
 * `.key_secret` ones, not hidden files), each with its certificate's metadata. Files
 * that are not certificates (a TLS key named `server.key`, say) are skipped and
 * reported to `onError`, as czmq's certificate store skips them. Throws when `dir`
 * is not a readable directory.
 */
export function loadCertificates(dir: string, options: LoadCertificatesOptions = {}): Map<string, Record<string, string>> {
  if (!statSync(dir).isDirectory()) throw new Error(`Invalid certificate directory: ${dir}`);
  const certs = new Map<string, Record<string, string>>();
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith(".key") || name.startsWith(".")) continue;
    const file = join(dir, name);
    try {
      if (!statSync(file).isFile()) continue;
      const cert = loadCertificate(file);
      certs.set(cert.publicKey, cert.metadata);
    } catch (e) {
      options.onError?.(file, e instanceof Error ? e : new Error(String(e)));
    }
  }
  return certs;
}
