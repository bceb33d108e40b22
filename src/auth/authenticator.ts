/**
 * A ZAP handler (RFC 27) with pyzmq's zmq.auth policies, so nobody writes ZAP by hand:
 *
 *     const auth = new Authenticator();
 *     auth.allow("127.0.0.1");
 *     auth.configureCurve(CURVE_ALLOW_ANY);           // or a directory of *.key files
 *     await auth.start();
 *     ...
 *     auth.stop();
 *
 * It binds a Router at inproc://zeromq.zap.01 in its Context; every server socket of
 * that Context (PLAIN, CURVE, or NULL with a zapDomain) then asks it. Decisions follow
 * pyzmq's Authenticator.handle_zap_message:
 *
 * - address lists first: with an allow list only those addresses pass (a listed one
 *   still has to authenticate for PLAIN and CURVE); else deny-listed ones are refused;
 * - NULL is let in unless the address lists refuse it (User-Id "anonymous");
 * - PLAIN needs a matching username and password (User-Id: the username);
 * - CURVE needs the client's public key to be allowed by the domain's policy: any key,
 *   a certificate directory, a list of keys, or a callback (User-Id: the Z85 key, see
 *   curveUserId(); for certificates from a directory the reply's metadata carries the
 *   certificate's metadata, as czmq's zauth does, readable with frame.get(name));
 * - GSSAPI is let in with the principal as User-Id (pyzmq does no more either);
 * - anything else is refused.
 *
 * Refusals are 400 with a reason (the server socket emits handshake:error:auth with
 * status 400). Malformed requests are refused with 400 as pyzmq does (pyzmq: "Not
 * enough frames", "Invalid version", "Invalid credentials"); a policy callback that
 * throws is answered 500 "Internal error". The handler never stops on a bad request.
 *
 * Domains: a request's ZAP domain ("" when the socket sets none, which means "*")
 * selects the policy configured for that domain, else the one configured for "*"
 * (so "*" covers every domain, as pyzmq documents). Unlike pyzmq, CURVE_ALLOW_ANY and
 * callbacks are per domain too, and the last configureCurve* call for a domain wins.
 */
import { timingSafeEqual } from "node:crypto";
import { Context, context as defaultContext } from "../context.js";
import { Router } from "../socket/classes.js";
import { z85Decode, z85Encode } from "../crypto/z85.js";
import { encodeMetadata } from "../wire/commands.js";
import { loadCertificates } from "./certs.js";

/** pyzmq's zmq.auth.CURVE_ALLOW_ANY: as a CURVE location, let any client key in. */
export const CURVE_ALLOW_ANY = "*";

/** Where the Authenticator reports what it does; `console` fits. Every method is optional. */
export interface AuthLogger {
  debug?(message: string): void;
  info?(message: string): void;
  warn?(message: string): void;
  error?(message: string): void;
}

export interface AuthenticatorOptions {
  /** The Context whose ZAP handler this is (default: the default context). */
  context?: Context;
  /** Debug lines for each decision, errors for malformed requests (default: silent). */
  log?: AuthLogger;
}

/** Decides on a CURVE client key (Z85); may be asynchronous. */
export type CurveCallback = (publicKeyZ85: string, domain: string) => boolean | Promise<boolean>;

type CurvePolicy =
  | { kind: "any" }
  | { kind: "keys"; keys: Map<string, Record<string, string>> }
  | { kind: "callback"; callback: CurveCallback };

interface Decision {
  status: "200" | "400" | "500";
  text: string;
  userId?: string;
  metadata?: Record<string, string>;
}

const ZAP_ENDPOINT = "inproc://zeromq.zap.01";
const VERSION = "1.0";
const EMPTY = Buffer.alloc(0);
const ZMTP_NAME = /^[A-Za-z0-9\-_.+]{1,255}$/;

export class Authenticator {
  readonly context: Context;
  private readonly log: AuthLogger;
  private router: Router | null = null;
  private readonly allowed = new Set<string>();
  private readonly denied = new Set<string>();
  private readonly passwords = new Map<string, Map<string, string>>();
  private readonly curve = new Map<string, CurvePolicy>();

  constructor(options: AuthenticatorOptions = {}) {
    if (options.context !== undefined && !(options.context instanceof Context)) {
      throw new TypeError("context must be a Context");
    }
    this.context = options.context ?? defaultContext;
    this.log = options.log ?? {};
  }

  /** The Router bound at inproc://zeromq.zap.01 while running (pyzmq's zap_socket). */
  get zapSocket(): Router | null {
    return this.router;
  }

  /** True between start() and stop() (pyzmq's ThreadAuthenticator.is_alive()). */
  isAlive(): boolean {
    return this.router !== null && !this.router.closed;
  }

  /**
   * Binds the ZAP handler in this Context and starts answering. Rejects with EADDRINUSE
   * when another handler is bound there. Calling it while running does nothing.
   */
  async start(): Promise<void> {
    if (this.isAlive()) return;
    const router = new Router({ context: this.context, linger: 0 });
    try {
      await router.bind(ZAP_ENDPOINT);
    } catch (e) {
      router.close();
      throw e;
    }
    this.router = router;
    this.log.debug?.("Starting");
    void this.serve(router);
  }

  /** Closes the ZAP handler; handshakes waiting for an answer then fail. Safe to call twice. */
  stop(): void {
    const router = this.router;
    this.router = null;
    if (router && !router.closed) {
      this.log.debug?.("Stopping");
      router.close();
    }
  }

  /**
   * Lets only these IP addresses in (each still has to authenticate for PLAIN and CURVE).
   * With an allow list the deny list is not consulted (pyzmq and czmq).
   */
  allow(...addresses: string[]): void {
    if (this.denied.size > 0) this.log.warn?.("Both an allow list and a deny list: only the allow list applies");
    this.log.debug?.(`Allowing ${addresses.join(",")}`);
    for (const a of addresses) this.allowed.add(a);
  }

  /** Refuses these IP addresses (others go on to authenticate). Ignored once an allow list exists. */
  deny(...addresses: string[]): void {
    if (this.allowed.size > 0) this.log.warn?.("Both an allow list and a deny list: only the allow list applies");
    this.log.debug?.(`Denying ${addresses.join(",")}`);
    for (const a of addresses) this.denied.add(a);
  }

  /** PLAIN: the usernames and passwords of a domain ("*": every domain without its own). Replaces that domain's. */
  configurePlain(passwords: Record<string, string>): void;
  configurePlain(domain: string, passwords: Record<string, string>): void;
  configurePlain(a: string | Record<string, string>, b?: Record<string, string>): void {
    const [domain, passwords] = typeof a === "string" ? [a, b] : ["*", a];
    if (passwords === null || typeof passwords !== "object") throw new TypeError("passwords must be an object of username: password");
    this.passwords.set(domain, new Map(Object.entries(passwords).map(([u, p]) => [u, String(p)])));
    this.log.debug?.(`Configure plain: ${domain}`);
  }

  /**
   * CURVE: the client keys of a domain are the public certificates (`*.key` files) in
   * `location`, read now (call again after the directory changes), or any key when
   * `location` is CURVE_ALLOW_ANY. Throws when the directory cannot be read; files
   * that are not certificates are skipped (logged as errors).
   */
  configureCurve(location: string): void;
  configureCurve(domain: string, location: string): void;
  configureCurve(a: string, b?: string): void {
    const [domain, location] = b === undefined ? ["*", a] : [a, b];
    this.log.debug?.(`Configure curve: ${domain}[${location}]`);
    if (location === CURVE_ALLOW_ANY) {
      this.curve.set(domain, { kind: "any" });
      return;
    }
    const keys = loadCertificates(location, {
      onError: (file, e) => this.log.error?.(`Skipping CURVE certificate ${file}: ${e.message}`),
    });
    this.curve.set(domain, { kind: "keys", keys });
  }

  /** CURVE: the client keys of a domain, as Z85 text (40 characters) or 32 bytes. */
  configureCurveKeys(publicKeys: Iterable<string | Uint8Array>): void;
  configureCurveKeys(domain: string, publicKeys: Iterable<string | Uint8Array>): void;
  configureCurveKeys(a: string | Iterable<string | Uint8Array>, b?: Iterable<string | Uint8Array>): void {
    const [domain, list] = typeof a === "string" ? [a, b] : ["*", a];
    if (list === undefined || list === null) throw new TypeError("publicKeys must be a list of keys");
    const keys = new Map<string, Record<string, string>>();
    for (const key of list) keys.set(z85Key(key), {});
    this.curve.set(domain, { kind: "keys", keys });
    this.log.debug?.(`Configure curve keys: ${domain} (${keys.size})`);
  }

  /** CURVE: `callback(z85Key, domain)` decides on each client key of a domain (pyzmq's configure_curve_callback). */
  configureCurveCallback(callback: CurveCallback): void;
  configureCurveCallback(domain: string, callback: CurveCallback): void;
  configureCurveCallback(a: string | CurveCallback, b?: CurveCallback): void {
    const [domain, callback] = typeof a === "string" ? [a, b] : ["*", a];
    if (typeof callback !== "function") throw new TypeError("callback must be a function");
    this.curve.set(domain, { kind: "callback", callback });
    this.log.debug?.(`Configure curve callback: ${domain}`);
  }

  /** The User-Id of an authenticated CURVE client: its Z85 public key. Override to map keys to users. */
  curveUserId(publicKey: Buffer): string {
    return z85Encode(publicKey);
  }

  // ---- serving ------------------------------------------------------------------

  private async serve(router: Router): Promise<void> {
    try {
      for await (const frames of router) {
        this.answer(router, frames).catch((e: unknown) => this.log.error?.(`ZAP request dropped: ${(e as Error)?.message ?? String(e)}`));
      }
    } catch (e) {
      if (!router.closed) this.log.error?.(`ZAP handler stopped: ${(e as Error).message}`);
    }
  }

  /** Answers one request: [routing id, "", version, request id, domain, address, identity, mechanism, ...credentials]. */
  private async answer(router: Router, frames: Buffer[]): Promise<void> {
    const delimiter = frames.findIndex((f, i) => i > 0 && f.length === 0);
    if (delimiter < 0) {
      this.log.error?.("Invalid ZAP message, no envelope delimiter: dropped");
      return;
    }
    const envelope = frames.slice(0, delimiter + 1);
    const body = frames.slice(delimiter + 1);
    if (body.length < 2) {
      this.log.error?.(`Invalid ZAP message, not enough frames (${body.length}): not enough information to reply`);
      return;
    }
    let decision: Decision;
    try {
      decision = await this.decide(body);
    } catch (e) {
      this.log.error?.(`ZAP request failed: ${(e as Error)?.message ?? String(e)}`);
      decision = { status: "500", text: "Internal error" };
    }
    let metadata: Buffer = EMPTY;
    if (decision.status === "200" && decision.metadata) {
      const props: [string, Buffer][] = [];
      for (const [k, v] of Object.entries(decision.metadata)) {
        if (ZMTP_NAME.test(k)) props.push([k, Buffer.from(v)]);
        else this.log.debug?.(`Metadata ${JSON.stringify(k)} is not a ZMTP property name: left out`);
      }
      metadata = encodeMetadata(props);
    }
    const userId = decision.status === "200" ? decision.userId ?? "" : "";
    this.log.debug?.(`ZAP reply code=${decision.status} text=${decision.text}`);
    if (router.closed) return;
    try {
      await router.send([...envelope, VERSION, body[1]!, decision.status, decision.text, userId, metadata]);
    } catch (e) {
      if (!router.closed) this.log.error?.(`ZAP reply not sent: ${(e as Error).message}`);
    }
  }

  /** pyzmq's handle_zap_message, on the frames after the delimiter. */
  private async decide(body: Buffer[]): Promise<Decision> {
    if (body.length < 6) {
      this.log.error?.(`Invalid ZAP message, not enough frames: ${body.length}`);
      return { status: "400", text: "Not enough frames" };
    }
    const [version, , domainFrame, addressFrame, , mechanismFrame, ...credentials] = body as [Buffer, Buffer, Buffer, Buffer, Buffer, Buffer, ...Buffer[]];
    if (version.toString() !== VERSION) {
      this.log.error?.(`Invalid ZAP version: ${JSON.stringify(version.toString())}`);
      return { status: "400", text: "Invalid version" };
    }
    const domain = domainFrame.toString();
    const address = addressFrame.toString();
    const mechanism = mechanismFrame.toString();
    this.log.debug?.(`version: ${VERSION}, domain: ${JSON.stringify(domain)}, address: ${address}, mechanism: ${mechanism}`);

    // Address lists: an allow list alone decides; else the deny list.
    if (this.allowed.size > 0) {
      if (!inList(this.allowed, address)) {
        this.log.debug?.(`DENIED (not allowed) address=${address}`);
        return { status: "400", text: "Address not allowed" };
      }
      this.log.debug?.(`PASSED (allowed) address=${address}`);
    } else if (this.denied.size > 0) {
      if (inList(this.denied, address)) {
        this.log.debug?.(`DENIED (denied) address=${address}`);
        return { status: "400", text: "Address denied" };
      }
      this.log.debug?.(`PASSED (not denied) address=${address}`);
    }

    switch (mechanism) {
      case "NULL":
        this.log.debug?.("ALLOWED (NULL)");
        return { status: "200", text: "OK", userId: "anonymous" };
      case "PLAIN": {
        // Even an allow-listed address must authenticate.
        if (credentials.length !== 2) {
          this.log.error?.(`Invalid PLAIN credentials: ${credentials.length} frames`);
          return { status: "400", text: "Invalid credentials" };
        }
        const username = credentials[0]!.toString();
        const [ok, why] = this.authenticatePlain(domain, username, credentials[1]!);
        return ok ? { status: "200", text: "OK", userId: username } : { status: "400", text: why };
      }
      case "CURVE": {
        if (credentials.length !== 1 || credentials[0]!.length !== 32) {
          this.log.error?.("Invalid CURVE credentials");
          return { status: "400", text: "Invalid credentials" };
        }
        const key = credentials[0]!;
        const result = await this.authenticateCurve(domain, key);
        if (!result.ok) return { status: "400", text: result.reason };
        return { status: "200", text: "OK", userId: this.curveUserId(Buffer.from(key)), metadata: result.metadata };
      }
      case "GSSAPI": {
        if (credentials.length !== 1) return { status: "400", text: "Invalid credentials" };
        this.log.debug?.("ALLOWED (GSSAPI)");
        return { status: "200", text: "OK", userId: credentials[0]!.toString() };
      }
      default:
        this.log.debug?.(`DENIED (unknown mechanism ${JSON.stringify(mechanism)})`);
        return { status: "400", text: "Unsupported mechanism" };
    }
  }

  private authenticatePlain(domain: string, username: string, password: Buffer): [boolean, string] {
    if (this.passwords.size === 0) {
      this.log.debug?.("DENIED (PLAIN) No passwords defined");
      return [false, "No passwords defined"];
    }
    const table = lookup(this.passwords, domain);
    if (!table) return this.plainDenied([false, "Invalid domain"]);
    const expected = table.get(username);
    if (expected === undefined) return this.plainDenied([false, "Invalid username"]);
    if (!sameBytes(Buffer.from(expected), password)) return this.plainDenied([false, "Invalid password"]);
    this.log.debug?.(`ALLOWED (PLAIN) domain=${domain || "*"} username=${username}`);
    return [true, "OK"];
  }

  private plainDenied(result: [boolean, string]): [boolean, string] {
    this.log.debug?.(`DENIED (PLAIN) ${result[1]}`);
    return result;
  }

  private async authenticateCurve(domain: string, key: Buffer): Promise<{ ok: true; metadata?: Record<string, string> } | { ok: false; reason: string }> {
    const policy = lookup(this.curve, domain);
    const z85 = z85Encode(key);
    if (!policy) {
      this.log.debug?.(`DENIED (CURVE) unknown domain=${domain || "*"}`);
      return { ok: false, reason: "Unknown domain" };
    }
    let ok: boolean;
    let metadata: Record<string, string> | undefined;
    if (policy.kind === "any") {
      ok = true;
    } else if (policy.kind === "keys") {
      metadata = policy.keys.get(z85);
      ok = metadata !== undefined;
    } else {
      ok = Boolean(await policy.callback(z85, domain || "*"));
    }
    this.log.debug?.(`${ok ? "ALLOWED" : "DENIED"} (CURVE${policy.kind === "any" ? " allow any" : ""}) domain=${domain || "*"} client_key=${z85}`);
    if (!ok) return { ok: false, reason: "Unknown key" };
    return metadata && Object.keys(metadata).length > 0 ? { ok: true, metadata } : { ok: true };
  }
}

/** The policy of a domain: its own, else "*"'s (an empty domain is "*"). */
function lookup<T>(table: Map<string, T>, domain: string): T | undefined {
  return table.get(domain === "" ? "*" : domain) ?? table.get("*");
}

/** Exact match, also of an IPv4-mapped IPv6 address ("::ffff:127.0.0.1") against its IPv4 form. */
function inList(list: Set<string>, address: string): boolean {
  if (list.has(address)) return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped !== null && list.has(mapped[1]!);
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function z85Key(key: string | Uint8Array): string {
  if (typeof key === "string") {
    if (key.length !== 40) throw new RangeError("a CURVE public key is 40 Z85 characters or 32 bytes");
    try {
      z85Decode(key);
    } catch {
      throw new RangeError(`not a Z85 key: ${JSON.stringify(key)}`);
    }
    return key;
  }
  if (key instanceof Uint8Array && key.length === 32) return z85Encode(key);
  throw new RangeError("a CURVE public key is 40 Z85 characters or 32 bytes");
}
