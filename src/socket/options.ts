/**
 * Every socket option zeromq.js v6 exposes, as one declarative table.
 *
 * Each row says what libzmq option it is (ZMQ_* number), what values it takes and how
 * they are normalized for storage, its default (libzmq 4.3 defaults, as zeromq.js
 * reports them), whether it is read-only or write-only on the JS side, and which
 * socket classes carry it. `defineOptionAccessors` turns rows into prototype
 * accessors, exactly where zeromq.js puts them: the common ones on Socket.prototype,
 * the rest on each class's prototype.
 *
 * Stored values (in `socket._options`) are normalized for the engine:
 *   - numbers: integers, after the same coercion N-API applies (ToInt32 for int32);
 *   - "buffer-or-string" options (routingId, plainUsername, ...): Buffer | null;
 *   - "string" options (socksProxy, interface, lastEndpoint): string | null;
 *   - tcpAcceptFilter: string[] (each assignment appends a filter, null clears);
 *   - CURVE keys: the 32-byte binary key (Buffer) | null;
 *   - heartbeatTimeToLive: milliseconds, rounded down to whole deciseconds.
 * Getters convert back to what zeromq.js returns (e.g. routingId reads as a string).
 */

import { isIPv4, isIPv6 } from "node:net";
import { zmqError, type ZmqError } from "../errors.js";

export type OptionKind =
  | "number"
  | "boolean"
  | "string"
  | "buffer-or-string"
  | "key"
  | "verbosity"
  | "mechanism";

/** How zeromq.js converts a JS number for libzmq (N-API getters). */
export type NumberType = "int32" | "uint32" | "int64" | "uint64";

export type SocketClassName =
  | "Pair"
  | "Publisher"
  | "Subscriber"
  | "Request"
  | "Reply"
  | "Dealer"
  | "Router"
  | "Pull"
  | "Push"
  | "XPublisher"
  | "XSubscriber"
  | "Stream"
  | "Server"
  | "Client"
  | "Radio"
  | "Dish"
  | "Gather"
  | "Scatter"
  | "Datagram"
  | "Peer"
  | "Channel";

export interface OptionSpec {
  /** Public zeromq.js name. */
  readonly name: string;
  /** libzmq option id (ZMQ_*). */
  readonly id: number;
  readonly kind: OptionKind;
  /** For kind "number": the C type zeromq.js converts to. */
  readonly numberType?: NumberType;
  /** Default stored value. */
  readonly default: unknown;
  /** Getter only (assigning throws in strict mode). */
  readonly readOnly?: boolean;
  /** Setter only: zeromq.js defines no getter, so reading gives undefined. */
  readonly writeOnly?: boolean;
  /**
   * Takes effect on an already connected/bound socket: zeromq.js does not warn
   * "Socket option will not take effect until next connect/bind." for these.
   */
  readonly immediate?: boolean;
  /** "common" = on Socket.prototype; otherwise the classes whose prototypes carry it. */
  readonly classes: "common" | readonly SocketClassName[];
  /**
   * Validates and normalizes a value being assigned; returns the value to store or
   * throws (TypeError for a wrong type, EINVAL for a bad value). `current` is the
   * socket's current option values (some checks depend on other options).
   */
  validate?(value: unknown, current?: OptionValues): unknown;
  /** Converts the stored value for the public getter (default: as stored). May throw. */
  read?(stored: unknown): unknown;
  /** Side effects on other stored options after a successful assignment (`assigned` is the raw value given). */
  apply?(values: OptionValues, stored: unknown, assigned: unknown): void;
}

/** Stored values, by option name, with defaults filled in. */
export type OptionValues = Record<string, unknown>;

// ---------------------------------------------------------------------------
// Errors

const numberTypeError = () => new TypeError("Option value must be a number");
const booleanTypeError = () => new TypeError("Option value must be a boolean");
const stringTypeError = () => new TypeError("Option value must be a string or buffer");

function invalid(name: string, problem: string): ZmqError {
  return zmqError("EINVAL", `Invalid argument: ${name} ${problem}`);
}

// ---------------------------------------------------------------------------
// Number coercion, as N-API does it for zeromq.js

const INT64_MAX = 2 ** 63;
const UINT64_MAX = 2 ** 64 - 1; // rounds to 2 ** 64 as a double, as in zeromq.js

function toInt32(v: number): number {
  return v | 0; // non-finite -> 0, fraction truncated, bottom 32 bits (napi_get_value_int32)
}

function toInt64(v: number): number {
  if (!Number.isFinite(v)) return 0; // napi_get_value_int64
  const t = Math.trunc(v);
  if (t >= INT64_MAX) return INT64_MAX;
  if (t <= -INT64_MAX) return -INT64_MAX;
  return t === 0 ? 0 : t;
}

function toUint64(v: number): number {
  if (Number.isNaN(v) || v <= 0) return 0;
  if (v > Number.MAX_SAFE_INTEGER) {
    process.emitWarning("Value is larger than Number.MAX_SAFE_INTEGER and may have been rounded inaccurately.");
  }
  if (v >= UINT64_MAX) return UINT64_MAX;
  return Math.trunc(v);
}

type IntCheck = (v: number) => string | null;

function int32(name: string, check?: IntCheck) {
  return (value: unknown): number => {
    if (typeof value !== "number") throw numberTypeError();
    const v = toInt32(value);
    const problem = check?.(v);
    if (problem) throw invalid(name, `${problem} (got ${v})`);
    return v;
  };
}

const atLeast = (min: number): IntCheck => (v) => (v >= min ? null : `must be >= ${min}`);

// ---------------------------------------------------------------------------
// Byte/string helpers

function asBytes(value: unknown): Buffer | null | undefined {
  if (value === null) return null;
  if (typeof value === "string") return Buffer.from(value, "utf8");
  if (Buffer.isBuffer(value)) return value;
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return undefined;
}

/** Reads bytes the way zeromq.js's getStringOption does: empty -> null, C string up to the first NUL. */
function readCString(bytes: Buffer | null): string | null {
  if (bytes === null || bytes.length === 0 || (bytes.length === 1 && bytes[0] === 0)) return null;
  const nul = bytes.indexOf(0);
  return bytes.toString("utf8", 0, nul === -1 ? bytes.length : nul);
}

interface BytesRule {
  /** Whether null is accepted (clears the option). */
  nullable: boolean;
  min: number;
  max: number;
}

/** Reads a stored string option as zeromq.js does (empty -> null, cut at the first NUL). */
function readString(stored: unknown): string | null {
  return typeof stored === "string" ? readCString(Buffer.from(stored, "utf8")) : null;
}

function bytesOption(name: string, rule: BytesRule) {
  return (value: unknown): Buffer | null => {
    const bytes = asBytes(value);
    if (bytes === undefined) throw stringTypeError();
    if (bytes === null) {
      if (!rule.nullable) throw invalid(name, "cannot be null");
      return null;
    }
    if (bytes.length < rule.min) throw invalid(name, rule.min === 1 ? "cannot be empty" : `must be at least ${rule.min} bytes`);
    if (bytes.length > rule.max) throw invalid(name, `must be at most ${rule.max} bytes (got ${bytes.length})`);
    return Buffer.from(bytes); // own copy: later changes to the caller's buffer do not leak in
  };
}

function stringOption(name: string, rule: BytesRule) {
  const toBytes = bytesOption(name, rule);
  return (value: unknown): string | null => {
    const bytes = toBytes(value);
    return bytes === null ? null : bytes.toString("utf8");
  };
}

// ---------------------------------------------------------------------------
// Z85 (ZeroMQ RFC 32), for CURVE keys

const Z85_CHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
const Z85_VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < Z85_CHARS.length; i++) Z85_VALUES[Z85_CHARS.charCodeAt(i)] = i;

function z85Decode(text: Buffer): Buffer | null {
  if (text.length % 5 !== 0) return null;
  const out = Buffer.alloc((text.length / 5) * 4);
  for (let i = 0, o = 0; i < text.length; i += 5, o += 4) {
    let value = 0;
    for (let j = 0; j < 5; j++) {
      const c = text[i + j]!;
      const digit = c < 128 ? Z85_VALUES[c]! : -1;
      if (digit < 0) return null;
      value = value * 85 + digit;
    }
    if (value > 0xffffffff) return null;
    out.writeUInt32BE(value, o);
  }
  return out;
}

function z85Encode(data: Buffer): string {
  let out = "";
  for (let i = 0; i < data.length; i += 4) {
    let value = data.readUInt32BE(i);
    const chunk: string[] = [];
    for (let j = 0; j < 5; j++) {
      chunk.unshift(Z85_CHARS[value % 85]!);
      value = Math.floor(value / 85);
    }
    out += chunk.join("");
  }
  return out;
}

/** A CURVE key as libzmq takes it: 32 raw bytes, 40 Z85 characters, or 40 Z85 characters + NUL. */
function curveKey(name: string) {
  return (value: unknown): Buffer => {
    const bytes = asBytes(value);
    if (bytes === undefined) throw stringTypeError();
    if (bytes === null) throw invalid(name, "cannot be null");
    if (bytes.length === 32) return Buffer.from(bytes);
    let text = bytes;
    if (text.length === 41 && text[40] === 0) text = text.subarray(0, 40);
    if (text.length === 40) {
      const key = z85Decode(text);
      if (key) return key;
      throw invalid(name, "is not a valid Z85 encoded key");
    }
    throw invalid(name, `must be 32 bytes or 40 Z85 characters (got ${bytes.length} bytes)`);
  };
}

function readKey(stored: unknown): string | null {
  return Buffer.isBuffer(stored) ? z85Encode(stored) : null;
}

// ---------------------------------------------------------------------------
// TCP accept filter: an IP address with an optional /mask (libzmq tcp_address_mask_t)

/** The inet_aton forms libzmq's numeric resolver also accepts: "127.1", "1.2.3", "0x7f.0.0.1", "0177.0.0.1". */
function isInetAton(text: string): boolean {
  const parts = text.split(".");
  if (parts.length > 4) return false;
  const nums: number[] = [];
  for (const part of parts) {
    let n: number;
    if (/^0x[0-9a-f]+$/i.test(part)) n = parseInt(part.slice(2), 16);
    else if (/^0[0-7]*$/.test(part)) n = parseInt(part, 8);
    else if (/^[1-9][0-9]*$/.test(part)) n = parseInt(part, 10);
    else return false;
    nums.push(n);
  }
  const last = nums.pop()!;
  if (nums.some((n) => n > 255)) return false;
  return last < 2 ** (8 * (4 - nums.length));
}

function acceptFilter(value: unknown, current?: OptionValues): readonly string[] {
  const name = "tcpAcceptFilter";
  const bytes = asBytes(value);
  if (bytes === undefined) throw stringTypeError();
  if (bytes === null) return [];
  if (bytes.length === 0) throw invalid(name, "cannot be empty");
  const text = bytes.toString("utf8");
  const slash = text.lastIndexOf("/");
  const addr = slash === -1 ? text : text.slice(0, slash);
  const maskText = slash === -1 ? null : text.slice(slash + 1);
  const ipv6Allowed = current?.ipv6 === true;
  const mapped = /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(addr);
  let v6: boolean;
  if (isIPv4(addr) || isInetAton(addr)) v6 = false;
  else if (isIPv6(addr) && (ipv6Allowed || mapped)) v6 = true;
  else throw invalid(name, `is not a numeric IP address${ipv6Allowed ? "" : " (IPv6 needs ipv6 = true)"}: ${JSON.stringify(text)}`);
  if (maskText !== null) {
    const max = v6 && !mapped ? 128 : 32;
    if (!/^[0-9]+$/.test(maskText) || Number(maskText) > max) {
      throw invalid(name, `has a bad mask (0..${max}): ${JSON.stringify(text)}`);
    }
  }
  const previous = Array.isArray(current?.tcpAcceptFilter) ? (current!.tcpAcceptFilter as string[]) : [];
  return Object.freeze([...previous, text]);
}

// ---------------------------------------------------------------------------
// Security mechanism bookkeeping, as libzmq does it (options.cpp): plainServer and
// curveServer share one "as_server" flag, credentials and keys switch the mechanism.

type Mechanism = null | "plain" | "curve" | "gssapi";
const asServerFlags = new WeakMap<OptionValues, boolean>();

function setSecurity(values: OptionValues, mechanism: Mechanism, asServer?: boolean): void {
  if (asServer !== undefined) asServerFlags.set(values, asServer);
  const server = asServerFlags.get(values) ?? false;
  values.securityMechanism = mechanism;
  values.plainServer = server && mechanism === "plain";
  values.curveServer = server && mechanism === "curve";
}

/** PLAIN username/password: null switches PLAIN off but keeps the stored credential, as libzmq does. */
function plainCredential(name: string) {
  const toBytes = bytesOption(name, { nullable: true, min: 1, max: 255 });
  return (value: unknown, current?: OptionValues): Buffer | null => {
    const bytes = toBytes(value);
    if (bytes === null) return (current?.[name] as Buffer | null | undefined) ?? null;
    return bytes;
  };
}

function plainCredentialApplied(values: OptionValues, _stored: unknown, assigned: unknown): void {
  if (assigned === null) setSecurity(values, null);
  else setSecurity(values, "plain", false);
}

const currentMechanism = (values: OptionValues): Mechanism => (values.securityMechanism ?? null) as Mechanism;

// ---------------------------------------------------------------------------
// The table

const WRITABLE: readonly SocketClassName[] = [
  "Pair", "Publisher", "Request", "Reply", "Dealer", "Router", "Push", "XPublisher", "XSubscriber", "Stream",
  "Server", "Client", "Radio", "Scatter", "Datagram", "Peer", "Channel",
];
const READABLE: readonly SocketClassName[] = [
  "Pair", "Subscriber", "Request", "Reply", "Dealer", "Router", "Pull", "XPublisher", "XSubscriber", "Stream",
  "Server", "Client", "Dish", "Gather", "Datagram", "Peer", "Channel",
];
const CONFLATABLE: readonly SocketClassName[] = ["Pull", "Push", "Subscriber", "Publisher", "Dealer", "Scatter", "Gather"];

type Row = Omit<OptionSpec, "name">;

function num(id: number, def: number, check?: IntCheck, extra: Partial<Row> = {}): (name: string) => Row {
  return (name) => ({ id, kind: "number", numberType: "int32", default: def, classes: "common", validate: int32(name, check), ...extra });
}

function bool(id: number, def: boolean, extra: Partial<Row> = {}): (name: string) => Row {
  return () => ({
    id,
    kind: "boolean",
    default: def,
    classes: "common",
    validate(value: unknown) {
      if (typeof value !== "boolean") throw booleanTypeError();
      return value;
    },
    ...extra,
  });
}

function uint64(id: number, def: number | null, extra: Partial<Row> = {}): (name: string) => Row {
  return () => ({
    id,
    kind: "number",
    numberType: "uint64",
    default: def,
    classes: "common",
    validate(value: unknown) {
      if (typeof value !== "number") throw numberTypeError();
      return toUint64(value);
    },
    ...extra,
  });
}

/** VMCI transport options: libzmq without VMCI rejects both reading and writing them. */
function vmci(id: number, numberType: NumberType): (name: string) => Row {
  return (name) => ({
    id,
    kind: "number",
    numberType,
    default: null,
    classes: "common",
    validate(value: unknown) {
      if (typeof value !== "number") throw numberTypeError();
      throw invalid(name, "is not supported (no vmci transport)");
    },
    read() {
      throw invalid(name, "is not supported (no vmci transport)");
    },
  });
}

const rows: Record<string, (name: string) => Row> = {
  // --- writable sockets
  sendBufferSize: num(11, -1, atLeast(-1), { classes: WRITABLE }),
  sendHighWaterMark: num(23, 1000, atLeast(0), { classes: WRITABLE, immediate: true }),
  sendTimeout: num(28, -1, atLeast(-1), { classes: WRITABLE, immediate: true }),
  multicastHops: num(25, 1, atLeast(1), { classes: WRITABLE }),
  // Whether our own host hears what we send to a multicast group (libzmq default: yes). udp only.
  multicastLoop: bool(96, true, { classes: ["Radio", "Datagram"] }),
  // --- readable sockets
  receiveBufferSize: num(12, -1, atLeast(-1), { classes: READABLE }),
  receiveHighWaterMark: num(24, 1000, atLeast(0), { classes: READABLE, immediate: true }),
  receiveTimeout: num(27, -1, atLeast(-1), { classes: READABLE, immediate: true }),

  // --- common (Socket.prototype)
  affinity: uint64(4, 0),
  routingId: (name) => ({
    id: 5,
    kind: "buffer-or-string",
    default: null,
    classes: ["Request", "Reply", "Router", "Dealer"],
    validate: bytesOption(name, { nullable: false, min: 1, max: 255 }),
    read: (stored) => readCString(stored as Buffer | null),
  }),
  rate: num(8, 100, atLeast(1)),
  recoveryInterval: num(9, 10000, atLeast(0)),
  linger: num(17, -1, atLeast(-1), { immediate: true }),
  reconnectInterval: num(18, 100, atLeast(-1)),
  backlog: num(19, 100, atLeast(0)),
  reconnectMaxInterval: num(21, 0, atLeast(0)),
  maxMessageSize: () => ({
    id: 22,
    kind: "number",
    numberType: "int64",
    default: -1,
    classes: "common",
    validate(value: unknown) {
      if (typeof value !== "number") throw numberTypeError();
      return toInt64(value);
    },
  }),
  lastEndpoint: () => ({ id: 32, kind: "string", default: null, classes: "common", readOnly: true, read: readString }),
  mandatory: bool(33, false, { classes: ["Router"], immediate: true }),
  tcpKeepalive: num(34, -1, (v) => (v >= -1 && v <= 1 ? null : "must be -1, 0 or 1")),
  tcpKeepaliveCount: num(35, -1, atLeast(-1)),
  tcpKeepaliveIdle: num(36, -1, atLeast(-1)),
  tcpKeepaliveInterval: num(37, -1, atLeast(-1)),
  tcpAcceptFilter: () => ({
    id: 38,
    kind: "string",
    default: Object.freeze([]) as readonly string[],
    classes: "common",
    validate: acceptFilter,
    // libzmq has no getsockopt for ZMQ_TCP_ACCEPT_FILTER; zeromq.js's getter throws EINVAL.
    read() {
      throw invalid("tcpAcceptFilter", "cannot be read");
    },
  }),
  immediate: bool(39, false),
  ipv6: bool(42, false),
  securityMechanism: () => ({ id: 43, kind: "mechanism", default: null, classes: "common", readOnly: true }),
  plainServer: bool(44, false, {
    apply: (values, stored) => setSecurity(values, stored ? "plain" : null, stored as boolean),
  }),
  plainUsername: (name) => ({
    id: 45,
    kind: "buffer-or-string",
    default: null,
    classes: "common",
    validate: plainCredential(name),
    read: (stored) => readCString(stored as Buffer | null),
    apply: plainCredentialApplied,
  }),
  plainPassword: (name) => ({
    id: 46,
    kind: "buffer-or-string",
    default: null,
    classes: "common",
    validate: plainCredential(name),
    read: (stored) => readCString(stored as Buffer | null),
    apply: plainCredentialApplied,
  }),
  curveServer: bool(47, false, {
    apply: (values, stored) => setSecurity(values, stored ? "curve" : null, stored as boolean),
  }),
  curvePublicKey: (name) => ({
    id: 48,
    kind: "key",
    default: null,
    classes: "common",
    validate: curveKey(name),
    read: readKey,
    apply: (values) => setSecurity(values, "curve"),
  }),
  curveSecretKey: (name) => ({
    id: 49,
    kind: "key",
    default: null,
    classes: "common",
    validate: curveKey(name),
    read: readKey,
    apply: (values) => setSecurity(values, "curve"),
  }),
  curveServerKey: (name) => ({
    id: 50,
    kind: "key",
    default: null,
    classes: "common",
    validate: curveKey(name),
    read: readKey,
    apply: (values) => setSecurity(values, "curve", false),
  }),
  probeRouter: bool(51, false, { classes: ["Router", "Dealer", "Request"], writeOnly: true, immediate: true }),
  correlate: bool(52, false, { classes: ["Request"], writeOnly: true, immediate: true }),
  relaxed: bool(53, false, { classes: ["Request"], writeOnly: true, immediate: true }),
  conflate: bool(54, false, { classes: CONFLATABLE, writeOnly: true }),
  zapDomain: (name) => ({
    id: 55,
    kind: "buffer-or-string",
    default: null,
    classes: "common",
    validate: bytesOption(name, { nullable: false, min: 1, max: 255 }),
    read: (stored) => readCString(stored as Buffer | null),
  }),
  handover: bool(56, false, { classes: ["Router"], writeOnly: true, immediate: true }),
  typeOfService: num(57, 0, atLeast(0), { numberType: "uint32" }),
  handshakeInterval: num(66, 30000, atLeast(0)),
  socksProxy: (name) => ({
    id: 68,
    kind: "string",
    default: null,
    classes: "common",
    validate: stringOption(name, { nullable: true, min: 1, max: Infinity }),
    read: readString,
  }),
  noDrop: bool(69, false, { classes: ["XPublisher", "Publisher"], writeOnly: true }),
  manual: bool(71, false, { classes: ["XPublisher"], writeOnly: true }),
  welcomeMessage: (name) => ({
    id: 72,
    kind: "buffer-or-string",
    default: null,
    classes: ["XPublisher"],
    writeOnly: true,
    validate(value: unknown) {
      const bytes = bytesOption(name, { nullable: true, min: 0, max: Infinity })(value);
      return bytes !== null && bytes.length === 0 ? null : bytes;
    },
  }),
  notify: bool(73, true, { classes: ["Stream"], writeOnly: true }),
  invertMatching: bool(74, false, { classes: ["Publisher", "Subscriber", "XPublisher"] }),
  heartbeatInterval: num(75, 0, atLeast(0)),
  heartbeatTimeToLive: (name) => ({
    id: 76,
    kind: "number",
    numberType: "int32",
    default: 0,
    classes: "common",
    // libzmq stores deciseconds in 16 bits: value / 100 (truncated) must be 0..65535.
    validate(value: unknown) {
      if (typeof value !== "number") throw numberTypeError();
      const v = toInt32(value);
      const ds = Math.trunc(v / 100);
      if (ds < 0 || ds > 0xffff) throw invalid(name, `must be between 0 and 6553599 ms (got ${v})`);
      return ds === 0 ? 0 : ds * 100; // no -0
    },
  }),
  heartbeatTimeout: num(77, -1, atLeast(0)),
  verbosity: (name) => ({
    id: 40, // ZMQ_XPUB_VERBOSE; "allSubsUnsubs" is ZMQ_XPUB_VERBOSER (78)
    kind: "verbosity",
    default: null,
    classes: ["XPublisher"],
    writeOnly: true,
    immediate: true,
    validate(value: unknown) {
      if (value === null || value === "allSubs" || value === "allSubsUnsubs") return value;
      throw invalid(name, `must be null, "allSubs" or "allSubsUnsubs" (got ${describe(value)})`);
    },
  }),
  connectTimeout: num(79, 0, atLeast(0)),
  tcpMaxRetransmitTimeout: num(80, 0, atLeast(0)),
  threadSafe: () => ({ id: 81, kind: "boolean", default: false, classes: "common", readOnly: true }),
  multicastMaxTransportDataUnit: num(84, 1500, atLeast(1)),
  vmciBufferSize: vmci(85, "uint64"),
  vmciBufferMinSize: vmci(86, "uint64"),
  vmciBufferMaxSize: vmci(87, "uint64"),
  vmciConnectTimeout: vmci(88, "int32"),
  interface: (name) => ({
    id: 92,
    kind: "string",
    default: null,
    classes: "common",
    validate: stringOption(name, { nullable: true, min: 1, max: 16 }),
    read: readString,
  }),
  zapEnforceDomain: bool(93, false),
  loopbackFastPath: bool(94, false),
};

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === undefined || value === null || typeof value !== "object") return String(value);
  return Object.prototype.toString.call(value);
}

/** Every option, by name. */
export const socketOptions: Readonly<Record<string, OptionSpec>> = Object.freeze(
  Object.fromEntries(
    Object.entries(rows).map(([name, row]) => [name, Object.freeze({ name, ...row(name) }) as OptionSpec]),
  ),
);

/** Options by libzmq id (ZMQ_*), for getsockopt/setsockopt-style access. ZMQ_XPUB_VERBOSER (78) maps to verbosity. */
export const optionsById: ReadonlyMap<number, OptionSpec> = new Map([
  ...Object.values(socketOptions).map((spec) => [spec.id, spec] as const),
  [78, socketOptions.verbosity!] as const,
]);

export const socketClassNames: readonly SocketClassName[] = Object.freeze([
  "Pair", "Publisher", "Subscriber", "Request", "Reply", "Dealer", "Router", "Pull", "Push",
  "XPublisher", "XSubscriber", "Stream", "Server", "Client", "Radio", "Dish", "Gather", "Scatter", "Datagram",
  "Peer", "Channel",
] as const);

/** The option names zeromq.js puts on Socket.prototype. */
export const commonOptionNames: readonly string[] = Object.freeze(
  Object.values(socketOptions)
    .filter((s) => s.classes === "common")
    .map((s) => s.name),
);

/** The option names zeromq.js puts on each class's own prototype (common ones excluded). */
export const classOptionNames: Readonly<Record<string, readonly string[]>> = Object.freeze(
  Object.fromEntries(
    socketClassNames.map((cls) => [
      cls,
      Object.freeze(
        Object.values(socketOptions)
          .filter((s) => s.classes !== "common" && s.classes.includes(cls))
          .map((s) => s.name),
      ),
    ]),
  ),
);

/** libzmq type numbers whose sockets start with linger 0 (SUB, XSUB, DISH: xsub_t/dish_t set it). */
const LINGER_ZERO_TYPES = new Set([2, 10, 15]);
/** libzmq type numbers of the thread-safe draft sockets (SERVER, CLIENT, RADIO, DISH, GATHER, SCATTER, PEER, CHANNEL). */
const THREAD_SAFE_TYPES = new Set([12, 13, 14, 15, 16, 17, 19, 20]);

/**
 * Stored values, by option name, with defaults filled in (a fresh object each call).
 * With a socket type (libzmq number) and/or context settings, the defaults are the ones
 * zeromq.js reports for that socket: `ipv6` from the context, `linger` 0 when the
 * context is not blocky, `linger` 0 for SUB/XSUB/DISH, `threadSafe` for the draft types.
 */
export function defaultOptionValues(socketType?: number, context?: { blocky?: boolean; ipv6?: boolean }): OptionValues {
  const values: OptionValues = {};
  for (const spec of Object.values(socketOptions)) values[spec.name] = spec.default;
  if (context?.ipv6 === true) values.ipv6 = true;
  if (context?.blocky === false) values.linger = 0;
  if (socketType !== undefined) {
    if (LINGER_ZERO_TYPES.has(socketType)) values.linger = 0;
    if (THREAD_SAFE_TYPES.has(socketType)) values.threadSafe = true;
  }
  return values;
}

function specOf(name: string): OptionSpec {
  const spec = socketOptions[name];
  if (!spec) throw new TypeError(`Unknown socket option: ${name}`);
  return spec;
}

/** Validates `value` for option `name` and returns what would be stored (throws like the setter). */
export function validateOption(name: string, value: unknown, current?: OptionValues): unknown {
  const spec = specOf(name);
  return spec.validate ? spec.validate(value, current) : value;
}

/**
 * Assigns an option into `values` the way the public setter does (validate, store,
 * side effects), without the read-only check or the change notification. For internal
 * use (e.g. Router.connect's routingId, compat setsockopt, a socket type's own defaults).
 */
export function setOptionValue(values: OptionValues, name: string, value: unknown): void {
  const spec = specOf(name);
  const stored = spec.validate ? spec.validate(value, values) : value;
  values[name] = stored;
  spec.apply?.(values, stored, value);
}

/** Reads an option from `values` the way the public getter does. */
export function readOptionValue(values: OptionValues, name: string): unknown {
  const spec = specOf(name);
  const stored = name in values ? values[name] : spec.default;
  return spec.read ? spec.read(stored) : stored;
}

interface OptionHost {
  _options?: OptionValues;
  closed?: unknown;
  _optionChanged?(name: string): void;
}

function notASocket(): ZmqError {
  const err = zmqError("ENOTSOCK", "Socket operation on non-socket");
  err.errno = 88; // Linux ENOTSOCK, as zeromq.js reports for options of a closed socket
  return err;
}

function hostValues(host: OptionHost): OptionValues {
  const values = host._options;
  if (values === undefined || values === null) throw new TypeError("Illegal invocation");
  if (host.closed === true) throw notASocket();
  return values;
}

/**
 * Defines getter/setter accessors on `proto` for the named options. The getter returns
 * `this._options[name]` converted for reading (e.g. routingId Buffer -> string). The
 * setter validates, stores into `this._options[name]` (plus side effects on related
 * options, e.g. securityMechanism), then calls `this._optionChanged(name)` if that
 * method exists. Read-only options get a getter only (assigning throws in strict mode:
 * "Cannot set property X of #<Socket> which has only a getter"); write-only options a
 * setter only (reading gives undefined), as in zeromq.js. Both throw ENOTSOCK once
 * `this.closed` is true, as zeromq.js does. A name `proto` already owns is skipped, so a
 * class can define its own accessor first.
 */
export function defineOptionAccessors(proto: object, names: readonly string[]): void {
  for (const name of names) {
    const spec = specOf(name);
    if (Object.prototype.hasOwnProperty.call(proto, name)) continue;
    const desc: PropertyDescriptor = { configurable: true, enumerable: false };
    if (!spec.writeOnly) {
      desc.get = function get(this: OptionHost) {
        const values = hostValues(this);
        const stored = name in values ? values[name] : spec.default;
        return spec.read ? spec.read(stored) : stored;
      };
    }
    if (!spec.readOnly) {
      desc.set = function set(this: OptionHost, value: unknown) {
        const values = hostValues(this);
        const stored = spec.validate ? spec.validate(value, values) : value;
        values[name] = stored;
        spec.apply?.(values, stored, value);
        this._optionChanged?.(name);
      };
    }
    Object.defineProperty(proto, name, desc);
  }
}

/** The mechanism currently configured (null, "plain" or "curve"), and whether this side is the server. */
export function securityOf(values: OptionValues): { mechanism: Mechanism; asServer: boolean } {
  return { mechanism: currentMechanism(values), asServer: values.plainServer === true || values.curveServer === true };
}
