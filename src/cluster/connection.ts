/**
 * The connection file: what an engine or a client needs to join a cluster — the
 * controller's endpoints, the transport, and the HMAC key every message is signed with.
 * Only the controller's endpoints are known in advance; everything else (engine ids,
 * peer endpoints) is learnt at registration.
 *
 * Endpoints are allocated per transport: tcp binds ephemeral ports on one interface
 * (`tcp://127.0.0.1:*`, resolved after the bind), ipc makes socket files in a directory
 * of the cluster's own, inproc uses names under a per-cluster prefix (one process only).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClusterError } from "./errors.js";

export type Transport = "tcp" | "ipc" | "inproc";

/** The controller's channels, by their names in docs/CLUSTER.md. */
export const CHANNELS = [
  "registration", "mux_client", "mux_engine", "task_client", "task_engine",
  "iopub_client", "iopub_engine", "notification", "hb_ping", "hb_pong",
] as const;

export type Channel = (typeof CHANNELS)[number];

/** The contents of a connection file. */
export interface ConnectionInfo {
  transport: Transport;
  /**
   * tcp: the interface the controller bound and engines bind their peer endpoints on;
   * ipc: the cluster's directory (engines put their peer sockets there);
   * inproc: the name prefix.
   */
  location: string;
  /** The HMAC key (hex); empty would mean unsigned, which the cluster never writes. */
  key: string;
  signature_scheme: "hmac-sha256";
  /** The load-balancing scheme of the task scheduler (informative). */
  task_scheme: string;
  /** Heartbeat period and misses tolerated, as the hub runs them (informative). */
  heartbeat: { period: number; max_missed: number };
  /** Every channel's endpoint, resolved (no `*`). */
  endpoints: Record<Channel, string>;
  /**
   * Present when the controller's sockets are CURVE servers: its public key (Z85). Engines
   * and clients then connect with a key pair of their own, and every engine's peer
   * endpoint is a CURVE server too (its public key travels in the peer table). The
   * controller's secret key is never written.
   */
  curve?: { server_key: string };
}

/** A CURVE key pair, Z85. */
export interface CurveKeys {
  publicKey: string;
  secretKey: string;
}

/** Options of a socket that connects to a CURVE server with `serverKey` (none without CURVE). */
export function curveClientOptions(serverKey: string | undefined, own: CurveKeys | null): Record<string, string> {
  if (serverKey === undefined || own === null) return {};
  return { curveServerKey: serverKey, curvePublicKey: own.publicKey, curveSecretKey: own.secretKey };
}

/** Options of a socket that is a CURVE server with these keys (none without CURVE). */
export function curveServerOptions(own: CurveKeys | null): Record<string, string | boolean> {
  if (own === null) return {};
  return { curveServer: true, curvePublicKey: own.publicKey, curveSecretKey: own.secretKey };
}

const Z85_KEY = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;

/** A new random HMAC key (32 bytes, hex). */
export function newKey(): string {
  return randomBytes(32).toString("hex");
}

/**
 * Where each channel binds, before binding: tcp endpoints end in `:*` and are resolved
 * by the bind; ipc endpoints are files in `location` (a fresh directory when not given).
 */
export function planEndpoints(transport: Transport, location?: string): { location: string; endpoints: Record<Channel, string> } {
  let where: string;
  let make: (channel: string) => string;
  switch (transport) {
    case "tcp":
      where = location ?? "127.0.0.1";
      make = () => `tcp://${where.includes(":") ? `[${where}]` : where}:*`;
      break;
    case "ipc":
      where = location ?? mkdtempSync(join(tmpdir(), "zmq-ts-cluster-"));
      make = (channel) => `ipc://${join(where, channel)}`;
      break;
    case "inproc":
      where = location ?? `zmq-ts-cluster-${randomBytes(6).toString("hex")}`;
      make = (channel) => `inproc://${where}/${channel}`;
      break;
    default:
      throw new ClusterError("EINVAL", `unknown transport ${JSON.stringify(transport)} (tcp, ipc or inproc)`);
  }
  const endpoints = {} as Record<Channel, string>;
  for (const c of CHANNELS) endpoints[c] = make(c);
  return { location: where, endpoints };
}

/** The endpoint an engine binds its peer ROUTER to, on the cluster's transport. */
export function peerEndpointFor(info: Pick<ConnectionInfo, "transport" | "location">, uuid: string, ip?: string): string {
  switch (info.transport) {
    case "tcp": {
      const host = ip ?? info.location;
      return `tcp://${host.includes(":") ? `[${host}]` : host}:*`;
    }
    case "ipc":
      return `ipc://${join(info.location, `peer-${uuid}`)}`;
    case "inproc":
      return `inproc://${info.location}/peer-${uuid}`;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** Checks a parsed connection file; throws EINVAL naming the first problem. */
export function checkConnectionInfo(v: unknown, where = "connection info"): ConnectionInfo {
  const bad = (what: string) => new ClusterError("EINVAL", `${where}: ${what}`);
  if (!isObject(v)) throw bad("not an object");
  if (v.transport !== "tcp" && v.transport !== "ipc" && v.transport !== "inproc") throw bad("transport must be tcp, ipc or inproc");
  if (typeof v.location !== "string") throw bad("location must be a string");
  if (typeof v.key !== "string") throw bad("key must be a string");
  if (v.signature_scheme !== "hmac-sha256") throw bad(`unsupported signature_scheme ${JSON.stringify(v.signature_scheme)}`);
  if (!isObject(v.endpoints)) throw bad("endpoints missing");
  for (const c of CHANNELS) {
    if (typeof v.endpoints[c] !== "string" || !(v.endpoints[c] as string).includes("://")) throw bad(`endpoint ${c} missing`);
  }
  const hb = isObject(v.heartbeat) ? v.heartbeat : {};
  let curve: { server_key: string } | undefined;
  if (v.curve !== undefined) {
    if (!isObject(v.curve) || typeof v.curve.server_key !== "string" || !Z85_KEY.test(v.curve.server_key)) {
      throw bad("curve.server_key must be a 40-character Z85 public key");
    }
    if (v.transport === "inproc") throw bad("CURVE needs tcp or ipc (inproc has no security mechanism)");
    curve = { server_key: v.curve.server_key };
  }
  return {
    transport: v.transport,
    location: v.location,
    key: v.key,
    signature_scheme: "hmac-sha256",
    task_scheme: typeof v.task_scheme === "string" ? v.task_scheme : "leastload",
    heartbeat: {
      period: typeof hb.period === "number" ? hb.period : 500,
      max_missed: typeof hb.max_missed === "number" ? hb.max_missed : 4,
    },
    endpoints: v.endpoints as Record<Channel, string>,
    ...(curve ? { curve } : {}),
  };
}

/** Reads and checks a connection file. */
export function readConnectionFile(path: string): ConnectionInfo {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ClusterError("EINVAL", `cannot read connection file ${path}: ${(e as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ClusterError("EINVAL", `connection file ${path} is not JSON`);
  }
  return checkConnectionInfo(parsed, `connection file ${path}`);
}

/**
 * Writes the connection file, readable by its owner only (it holds the key), atomically
 * (a reader never sees half a file).
 */
export function writeConnectionFile(path: string, info: ConnectionInfo): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(info, null, 2) + "\n", { mode: 0o600 });
  renameSync(tmp, path);
}

/** A connection file path or its contents, as Engine.start and Client.connect take them. */
export type ConnectionSource = string | ConnectionInfo;

export function resolveConnection(source: ConnectionSource): ConnectionInfo {
  return typeof source === "string" ? readConnectionFile(source) : checkConnectionInfo(source);
}
