/**
 * Shared pieces of the zmq-ts CLI: errors and exit codes, option parsing on node:util
 * parseArgs, frame encoding for input and output, socket creation with security
 * options, bind/connect, orderly shutdown.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { existsSync, readFileSync, statSync } from "node:fs";
import {
  Socket, Pair, Publisher, Subscriber, Request, Reply, Dealer, Router, Pull, Push, XPublisher, XSubscriber, Stream,
  Authenticator, CURVE_ALLOW_ANY, curveKeyPair, publicKeyFromSecret, loadCertificate,
} from "../index.js";

// ---- exit codes and errors --------------------------------------------------------------

export const EXIT_OK = 0;
export const EXIT_USAGE = 1;
export const EXIT_TIMEOUT = 2;
export const EXIT_CONNECTION = 3;

/** An error that ends the CLI with a given exit code. */
export class CliError extends Error {
  constructor(readonly exitCode: number, message: string) {
    super(message);
  }
}

export const usage = (message: string): CliError => new CliError(EXIT_USAGE, message);

const USAGE_CODES = new Set(["ENOTSUP", "EFSM", "EPROTONOSUPPORT"]);
const CONNECTION_CODES = new Set([
  "EADDRINUSE", "EADDRNOTAVAIL", "ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "ENOENT", "EACCES",
  "ENOTSOCK", "ENODEV", "EINVAL", "ETERM", "EBADF", "EPIPE", "ENOTFOUND",
]);

/** The exit code for an error thrown anywhere in a command. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof CliError) return err.exitCode;
  const code = (err as { code?: unknown } | null)?.code;
  if (code === "EAGAIN" || code === "ETIMEDOUT") return EXIT_TIMEOUT;
  if (typeof code === "string" && USAGE_CODES.has(code)) return EXIT_USAGE;
  if (err instanceof TypeError || err instanceof RangeError) return EXIT_USAGE;
  if (typeof code === "string" && (CONNECTION_CODES.has(code) || code.startsWith("ERR_ZMTP") || code.startsWith("ERR_ZAP"))) {
    return EXIT_CONNECTION;
  }
  return EXIT_CONNECTION;
}

// ---- output -------------------------------------------------------------------------------

export interface Output {
  json: boolean;
  quiet: boolean;
}

export const out: Output = { json: false, quiet: false };

/** The longest --linger of any socket opened: how long the process may need to flush after a command. */
export const lingerState = { max: 0 };

/** One line on stdout. */
export function print(line: string): void {
  process.stdout.write(line + "\n");
}

/** One JSON object per line on stdout. */
export function printJson(obj: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

/** Diagnostics on stderr: JSON under --json, text otherwise; --quiet silences info (not errors). */
export function info(kind: string, text: string, fields: Record<string, unknown> = {}): void {
  if (out.quiet) return;
  if (out.json) process.stderr.write(JSON.stringify({ type: kind, ...fields }) + "\n");
  else process.stderr.write(text + "\n");
}

export function reportError(err: unknown, exitCode: number): void {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  if (out.json) {
    process.stderr.write(JSON.stringify({ type: "error", exitCode, message, ...(typeof code === "string" ? { code } : {}) }) + "\n");
  } else {
    process.stderr.write(`zmq-ts: ${message}${typeof code === "string" && !message.includes(code) ? ` (${code})` : ""}\n`);
  }
}

// ---- frames -------------------------------------------------------------------------------

const utf8 = new TextDecoder("utf-8", { fatal: true });

function isText(frame: Buffer): boolean {
  try {
    const s = utf8.decode(frame);
    // Control characters other than tab/newline make a frame binary for display.
    return !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(s);
  } catch {
    return false;
  }
}

/** A message for output: frames as text when every frame is printable UTF-8 and --hex is off, else hex. */
export function encodeFrames(frames: Buffer[], hex: boolean): { frames: string[]; encoding: "utf8" | "hex" } {
  if (!hex && frames.every(isText)) return { frames: frames.map((f) => f.toString("utf8")), encoding: "utf8" };
  return { frames: frames.map((f) => f.toString("hex")), encoding: "hex" };
}

/** Prints one received message: a JSON line, or the frames joined by the separator. */
export function printMessage(frames: Buffer[], opts: { hex: boolean; separator: string }, extra: Record<string, unknown> = {}): void {
  const enc = encodeFrames(frames, opts.hex);
  if (out.json) printJson({ type: "message", ...extra, frames: enc.frames, encoding: enc.encoding });
  else print(enc.frames.join(opts.separator));
}

/** Parses one text argument as a frame: hex under --hex, UTF-8 otherwise. */
export function parseFrame(text: string, hex: boolean): Buffer {
  if (!hex) return Buffer.from(text, "utf8");
  const clean = text.replace(/^0x/i, "").replace(/[\s:]/g, "");
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) throw usage(`not a hex string: ${JSON.stringify(text)}`);
  return Buffer.from(clean, "hex");
}

/**
 * The frames of the message to send: positionals (each one frame, or split on
 * --separator), then each --part, then --file (one frame; "-" is stdin).
 */
export function messageFrames(positionals: string[], v: Values): Buffer[] {
  const hex = Boolean(v.hex);
  const sep = v.separator as string | undefined;
  const frames: Buffer[] = [];
  for (const p of positionals) {
    const pieces = sep !== undefined && sep !== "" ? p.split(sep) : [p];
    for (const piece of pieces) frames.push(parseFrame(piece, hex));
  }
  for (const p of (v.part as string[] | undefined) ?? []) frames.push(parseFrame(p, hex));
  const file = v.file as string | undefined;
  if (file !== undefined) {
    try {
      frames.push(readFileSync(file === "-" ? 0 : file));
    } catch (e) {
      throw usage(`cannot read ${file}: ${(e as Error).message}`);
    }
  }
  return frames;
}

// ---- options ------------------------------------------------------------------------------

export type Values = Record<string, string | boolean | string[] | boolean[] | undefined>;
export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

export const GLOBAL_OPTIONS: OptionSpec = {
  help: { type: "boolean", short: "h" },
  json: { type: "boolean" },
  quiet: { type: "boolean", short: "q" },
};

export const ENDPOINT_OPTIONS: OptionSpec = {
  type: { type: "string", short: "t" },
  bind: { type: "string", short: "b", multiple: true },
  connect: { type: "string", short: "c", multiple: true },
  linger: { type: "string" },
  "routing-id": { type: "string" },
};

export const SECURITY_OPTIONS: OptionSpec = {
  "curve-server": { type: "boolean" },
  "curve-server-key": { type: "string" },
  "curve-secret-key": { type: "string" },
  "curve-public-key": { type: "string" },
  "curve-allow": { type: "string", multiple: true },
  "plain-server": { type: "boolean" },
  "plain-user": { type: "string" },
  "plain-password": { type: "string" },
};

export const DATA_OPTIONS: OptionSpec = {
  hex: { type: "boolean", short: "x" },
  file: { type: "string", short: "f" },
  part: { type: "string", short: "p", multiple: true },
  separator: { type: "string", short: "s" },
};

export const LOOP_OPTIONS: OptionSpec = {
  count: { type: "string", short: "n" },
  timeout: { type: "string", short: "T" },
  progress: { type: "boolean" },
};

export const GLOBAL_HELP = `Global options:
  -h, --help                 this help
      --json                 machine output: one JSON object per line (stdout: data, stderr: diagnostics)
  -q, --quiet                no diagnostics on stderr (errors still go there)`;

export const ENDPOINT_HELP = `Socket options:
  -t, --type TYPE            socket type: pair pub sub req rep dealer router pull push xpub xsub stream
  -b, --bind ENDPOINT        bind (repeatable); a tcp port of * binds a free port, printed on stderr
  -c, --connect ENDPOINT     connect (repeatable)
      --linger MS            how long close waits to flush unsent messages (default 1000)
      --routing-id ID        the socket's routing id`;

export const SECURITY_HELP = `Security:
      --curve-server              be the CURVE server (needs --curve-secret-key)
      --curve-server-key KEY      be a CURVE client of the server with this public key
      --curve-secret-key KEY      this socket's secret key (client: generated when absent)
      --curve-public-key KEY      this socket's public key (default: derived from the secret key)
      --curve-allow KEY|DIR       CURVE server: only let in these client keys / the *.key files in DIR
      --plain-server              be the PLAIN server (with --plain-user/--plain-password: only that user)
      --plain-user USER           PLAIN user name
      --plain-password PASSWORD   PLAIN password
  KEY is 40 Z85 characters or the path of a certificate file (zmq-ts keygen --cert).`;

export const DATA_HELP = `Data:
  DATA...                    each positional argument is one frame
  -p, --part DATA            one more frame (repeatable)
  -s, --separator SEP        split DATA into frames at SEP; on output, join frames with SEP (default TAB)
  -x, --hex                  DATA is hex; print received frames as hex
  -f, --file PATH            one more frame: the contents of PATH ("-" for stdin)`;

export const LOOP_HELP = `Counting:
  -n, --count N              stop after N messages
  -T, --timeout MS           give up waiting after MS milliseconds (exit 2)
      --progress             report the rate on stderr every second (on by default when N >= 10000)`;

export const EXIT_HELP = `Exit codes: 0 ok, 1 usage error, 2 timeout, 3 connection or protocol error.`;

/**
 * Options whose value may start with '-': Z85 keys (one in 85 begins with it) and
 * passwords. parseArgs refuses `--curve-server-key -abc…` as ambiguous, so the value is
 * attached (`--curve-server-key=-abc…`) before parsing.
 */
const DASH_VALUE_OPTIONS = new Set(["--curve-server-key", "--curve-secret-key", "--curve-public-key", "--curve-allow", "--plain-password"]);

function attachDashValues(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = args[i + 1];
    if (DASH_VALUE_OPTIONS.has(a) && next !== undefined && next.startsWith("-") && next !== "--") {
      out.push(`${a}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

/** parseArgs with our error mapping: an unknown option or missing value is a usage error. */
export function parse(args: string[], options: OptionSpec, allowPositionals = true): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: attachDashValues(args), options: { ...GLOBAL_OPTIONS, ...options }, allowPositionals, strict: true });
    const v = values as Values;
    out.json = Boolean(v.json);
    out.quiet = Boolean(v.quiet);
    // Check numbers up front, before any socket exists.
    for (const name of ["timeout", "linger", "duration", "size"]) intOption(v, name);
    for (const name of ["count", "stats"]) intOption(v, name, { min: 1 });
    for (const name of ["interval", "delay", "seconds"]) numberOption(v, name);
    return { values: v, positionals };
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw usage((e as Error).message);
  }
}

/** A non-negative integer option; `undefined` when absent. */
export function intOption(v: Values, name: string, { min = 0 }: { min?: number } = {}): number | undefined {
  const raw = v[name];
  if (raw === undefined) return undefined;
  const s = String(raw);
  if (!/^\d+$/.test(s)) throw usage(`--${name} must be a whole number, got ${JSON.stringify(s)}`);
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n < min) throw usage(`--${name} must be at least ${min}`);
  return n;
}

export function numberOption(v: Values, name: string): number | undefined {
  const raw = v[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw usage(`--${name} must be a non-negative number, got ${JSON.stringify(raw)}`);
  return n;
}

// ---- sockets ------------------------------------------------------------------------------

type SocketClass = new (options?: Record<string, unknown>) => Socket;

export const SOCKET_TYPES: Record<string, SocketClass> = {
  pair: Pair, pub: Publisher, sub: Subscriber, req: Request, rep: Reply, dealer: Dealer, router: Router,
  pull: Pull, push: Push, xpub: XPublisher, xsub: XSubscriber, stream: Stream,
};

export function socketClass(name: string): SocketClass {
  const cls = SOCKET_TYPES[name.toLowerCase()];
  if (!cls) throw usage(`unknown socket type ${JSON.stringify(name)}; one of: ${Object.keys(SOCKET_TYPES).join(" ")}`);
  return cls;
}

/** A key argument: 40 Z85 characters, or a certificate file (its secret or public key). */
function keyArg(value: string, which: "secret" | "public", flag: string): string {
  if (/^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/.test(value) && !existsSync(value)) return value;
  if (existsSync(value) && statSync(value).isFile()) {
    let cert;
    try {
      cert = loadCertificate(value);
    } catch (e) {
      throw usage(`${flag}: ${(e as Error).message}`);
    }
    if (which === "public") return cert.publicKey;
    if (cert.secretKey === null) throw usage(`${flag}: ${value} holds no secret key`);
    return cert.secretKey;
  }
  throw usage(`${flag} must be 40 Z85 characters or a certificate file, got ${JSON.stringify(value)}`);
}

/** What Socket options the security flags ask for; starts a ZAP handler when the server restricts access. */
export async function securityOptions(v: Values, cleanup: Cleanup): Promise<Record<string, unknown>> {
  const o: Record<string, unknown> = {};
  const secret = v["curve-secret-key"] as string | undefined;
  const pub = v["curve-public-key"] as string | undefined;
  const serverKey = v["curve-server-key"] as string | undefined;
  const allow = (v["curve-allow"] as string[] | undefined) ?? [];
  const curveServer = Boolean(v["curve-server"]);
  if (curveServer && serverKey !== undefined) throw usage("--curve-server and --curve-server-key exclude each other");
  const plainUser = v["plain-user"] as string | undefined;
  const plainPassword = v["plain-password"] as string | undefined;
  const plainServer = Boolean(v["plain-server"]);
  const curve = curveServer || serverKey !== undefined;
  const plain = plainServer || plainUser !== undefined || plainPassword !== undefined;
  if (curve && plain) throw usage("CURVE and PLAIN options exclude each other");
  if (!curve && (secret !== undefined || pub !== undefined || allow.length > 0)) {
    throw usage("--curve-secret-key/--curve-public-key/--curve-allow need --curve-server or --curve-server-key");
  }
  if (curve) {
    let secretKey = secret === undefined ? undefined : keyArg(secret, "secret", "--curve-secret-key");
    let publicKey = pub === undefined ? undefined : keyArg(pub, "public", "--curve-public-key");
    if (curveServer) {
      if (secretKey === undefined) throw usage("--curve-server needs --curve-secret-key");
      o.curveServer = true;
    } else {
      o.curveServerKey = keyArg(serverKey!, "public", "--curve-server-key");
      if (secretKey === undefined) {
        if (publicKey !== undefined) throw usage("--curve-public-key needs --curve-secret-key");
        ({ secretKey, publicKey } = curveKeyPair());
      }
    }
    publicKey ??= publicKeyFromSecret(secretKey);
    o.curveSecretKey = secretKey;
    o.curvePublicKey = publicKey;
    if (curveServer && allow.length > 0) {
      const auth = new Authenticator();
      const keys: string[] = [];
      for (const a of allow) {
        if (existsSync(a) && statSync(a).isDirectory()) auth.configureCurve("*", a);
        else if (a === CURVE_ALLOW_ANY) auth.configureCurve("*", CURVE_ALLOW_ANY);
        else keys.push(keyArg(a, "public", "--curve-allow"));
      }
      if (keys.length > 0) auth.configureCurveKeys("*", keys);
      await auth.start();
      cleanup.add(() => auth.stop());
    }
  }
  if (plain) {
    if (plainServer) {
      o.plainServer = true;
      if (plainUser !== undefined || plainPassword !== undefined) {
        const auth = new Authenticator();
        auth.configurePlain("*", { [plainUser ?? ""]: plainPassword ?? "" });
        await auth.start();
        cleanup.add(() => auth.stop());
      }
    } else {
      o.plainUsername = plainUser ?? "";
      o.plainPassword = plainPassword ?? "";
    }
  }
  return o;
}

/** Things to undo at the end, last first. */
export class Cleanup {
  #tasks: Array<() => void | Promise<void>> = [];
  add(task: () => void | Promise<void>): void {
    this.#tasks.push(task);
  }
  async run(): Promise<void> {
    while (this.#tasks.length > 0) {
      const task = this.#tasks.pop()!;
      try {
        await task();
      } catch {
        // best effort
      }
    }
  }
}

export interface OpenedSocket {
  socket: Socket;
  /** Rejects (exit 3) on a handshake failure of a connecting socket; never resolves otherwise. */
  failure: Promise<never>;
  /** Where the socket bound (resolved wildcard ports) and connected. */
  bound: string[];
  connected: string[];
}

export interface OpenOptions {
  /** The type when --type is absent; absent too means --type is required. */
  defaultType?: string;
  /** Exact type, no --type option. */
  fixedType?: string;
  /** Extra Socket options (e.g. receiveTimeout). */
  socketOptions?: Record<string, unknown>;
  /** Handshake failures only print, never end the command (monitor). */
  tolerateFailures?: boolean;
  /** Called before bind/connect (monitor subscribes to events). */
  beforeAttach?: (socket: Socket) => void;
  /** Endpoints from elsewhere than --bind/--connect. */
  binds?: string[];
  connects?: string[];
  label?: string;
}

/**
 * Creates the socket that --type/--bind/--connect and the security flags describe, and
 * binds and connects it. Closing is registered with `cleanup` (waiting, bounded, for the
 * socket's "end" event so queued messages are flushed within --linger).
 */
export async function openSocket(v: Values, cleanup: Cleanup, opts: OpenOptions = {}): Promise<OpenedSocket> {
  const typeName = opts.fixedType ?? (v.type as string | undefined) ?? opts.defaultType;
  if (typeName === undefined) throw usage("--type is required");
  const cls = socketClass(typeName);
  const binds = opts.binds ?? ((v.bind as string[] | undefined) ?? []);
  const connects = opts.connects ?? ((v.connect as string[] | undefined) ?? []);
  if (binds.length + connects.length === 0) throw usage("give at least one --bind or --connect endpoint");
  const linger = intOption(v, "linger") ?? 1000;
  lingerState.max = Math.max(lingerState.max, linger);
  const options: Record<string, unknown> = { linger, ...(await securityOptions(v, cleanup)), ...opts.socketOptions };
  if (v["routing-id"] !== undefined) options.routingId = v["routing-id"];
  let socket: Socket;
  try {
    socket = new cls(options);
  } catch (e) {
    throw usage(`bad socket option: ${(e as Error).message}`);
  }
  let ended!: () => void;
  const end = new Promise<void>((resolve) => (ended = resolve));
  socket.events.on("end", () => ended());
  cleanup.add(async () => {
    if (!socket.closed) socket.close();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([end, new Promise<void>((r) => (timer = setTimeout(r, socket.linger < 0 ? 2000 : socket.linger + 500)))]);
    clearTimeout(timer);
  });
  const label = opts.label ? `${opts.label} ` : "";
  let fail!: (e: Error) => void;
  const failure = new Promise<never>((_, reject) => (fail = reject));
  failure.catch(() => {});
  const fatal = !opts.tolerateFailures && binds.length === 0;
  for (const type of ["handshake:error:auth", "handshake:error:protocol", "handshake:error:other"] as const) {
    socket.events.on(type, (event) => {
      const err = event.error as Error & { code?: string };
      if (fatal) {
        const e = new CliError(EXIT_CONNECTION, `${label}handshake with ${event.address} failed: ${err.message}${err.code ? ` (${err.code})` : ""}`);
        fail(e);
      } else if (!opts.tolerateFailures) {
        info("warning", `zmq-ts: ${label}handshake with ${event.address} failed: ${err.message}`, { event: type, address: event.address, message: err.message });
      }
    });
  }
  opts.beforeAttach?.(socket);
  const bound: string[] = [];
  for (const ep of binds) {
    await socket.bind(ep);
    const actual = ep.startsWith("tcp://") && /:(\*|0)$/.test(ep) ? socket.lastEndpoint ?? ep : ep;
    bound.push(actual);
    info("bound", `${label}bound ${actual}`, { endpoint: actual, ...(opts.label ? { side: opts.label } : {}) });
  }
  for (const ep of connects) {
    socket.connect(ep);
    info("connecting", `${label}connecting ${ep}`, { endpoint: ep, ...(opts.label ? { side: opts.label } : {}) });
  }
  return { socket, failure, bound, connected: connects };
}

/** Resolves on SIGINT/SIGTERM (once); the command then stops cleanly. */
export function interrupted(): { promise: Promise<"signal">; dispose(): void } {
  let resolve!: (v: "signal") => void;
  const promise = new Promise<"signal">((r) => (resolve = r));
  const handler = () => resolve("signal");
  process.once("SIGINT", handler);
  process.once("SIGTERM", handler);
  return { promise, dispose: () => { process.off("SIGINT", handler); process.off("SIGTERM", handler); } };
}

/** Reports a running count and rate on stderr once a second. */
export class Progress {
  #timer: NodeJS.Timeout | null = null;
  #start = performance.now();
  #last = 0;
  count = 0;
  bytes = 0;
  constructor(private readonly what: string, enabled: boolean, private readonly total?: number) {
    if (enabled && !out.quiet) {
      this.#timer = setInterval(() => this.#report(), 1000);
      this.#timer.unref();
    }
  }
  #report(): void {
    const secs = (performance.now() - this.#start) / 1000;
    const rate = this.count / Math.max(secs, 1e-9);
    const delta = this.count - this.#last;
    this.#last = this.count;
    const of = this.total !== undefined ? `/${this.total}` : "";
    info("progress", `${this.what} ${this.count}${of} messages, ${Math.round(rate)} msg/s (${delta} in the last second), ${(this.bytes / 1e6 / Math.max(secs, 1e-9)).toFixed(2)} MB/s`, {
      what: this.what, count: this.count, ...(this.total !== undefined ? { total: this.total } : {}), rate: Math.round(rate), bytes: this.bytes, seconds: +secs.toFixed(3),
    });
  }
  stop(final = false): void {
    if (this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
      if (final) this.#report();
    }
  }
}

/** Races `work` with the socket failure and SIGINT; a signal ends the command with exit 0. */
export async function guarded<T>(work: Promise<T>, failure: Promise<never>, signal: Promise<"signal">): Promise<T | "signal"> {
  return Promise.race([work, failure, signal]);
}

export const byteLength = (frames: Buffer[]): number => frames.reduce((n, f) => n + f.length, 0);
