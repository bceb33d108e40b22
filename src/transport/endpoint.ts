import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { zmqError } from "../errors.js";
import { warnAbstractIpc } from "../util/runtime.js";
import { parseUdp, type UdpEndpoint } from "./udp-address.js";

export type Endpoint =
  | { protocol: "tcp"; address: string; host: string; port: number; anyHost: boolean }
  | { protocol: "ipc"; address: string; path: string }
  | { protocol: "inproc"; address: string; name: string }
  | UdpEndpoint;

const SUPPORTED = new Set(["tcp", "ipc", "inproc", "udp"]);
/** Protocols libzmq knows but we do not (yet) carry: EPROTONOSUPPORT, as libzmq without them says. */

/**
 * Parses an endpoint as libzmq does. `forBind` allows `*` for the host (every
 * interface) and `*` or `0` for the port (an ephemeral one), and `ipc://*`.
 */
export function parseEndpoint(address: string, forBind: boolean): Endpoint {
  if (typeof address !== "string") throw zmqError("EINVAL", "Invalid argument", String(address));
  const sep = address.indexOf("://");
  if (sep <= 0) throw zmqError("EINVAL", "Invalid argument", address);
  const protocol = address.slice(0, sep);
  const rest = address.slice(sep + 3);
  if (!SUPPORTED.has(protocol)) throw zmqError("EPROTONOSUPPORT", "Protocol not supported", address);
  if (protocol === "inproc") {
    if (rest.length === 0) throw zmqError("EINVAL", "Invalid argument", address);
    return { protocol, address, name: rest };
  }
  if (protocol === "ipc") {
    if (rest.length === 0) throw zmqError("EINVAL", "Invalid argument", address);
    if (rest === "*") {
      if (!forBind) throw zmqError("EINVAL", "Invalid argument", address);
      const path = join(tmpdir(), `zmq-ts-${randomBytes(6).toString("hex")}`);
      return { protocol, address: `ipc://${path}`, path };
    }
    // Linux abstract namespace: "@name" is "\0name" to the kernel.
    if (rest.startsWith("@")) warnAbstractIpc(address);
    const path = rest.startsWith("@") ? `\0${rest.slice(1)}` : rest;
    return { protocol, address, path };
  }
  if (protocol === "udp") return parseUdp(address, rest, forBind);
  return parseTcp(address, rest, forBind);
}

function parseTcp(address: string, rest: string, forBind: boolean): Endpoint {
  // A connect may name a source address: "tcp://src:port;host:port". We take the target.
  const semi = rest.lastIndexOf(";");
  if (semi >= 0 && !forBind) rest = rest.slice(semi + 1);
  const colon = rest.lastIndexOf(":");
  if (colon <= 0) throw zmqError("EINVAL", "Invalid argument", address);
  let host = rest.slice(0, colon);
  const portText = rest.slice(colon + 1);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  let port: number;
  if (portText === "*" || portText === "0") {
    if (!forBind) throw zmqError("EINVAL", "Invalid argument", address);
    port = 0;
  } else {
    if (!/^\d{1,5}$/.test(portText)) throw zmqError("EINVAL", "Invalid argument", address);
    port = Number(portText);
    if (port < 1 || port > 65535) throw zmqError("EINVAL", "Invalid argument", address);
  }
  if (host.length === 0) throw zmqError("EINVAL", "Invalid argument", address);
  const anyHost = host === "*";
  if (anyHost) {
    if (!forBind) throw zmqError("EINVAL", "Invalid argument", address);
    return { protocol: "tcp", address, host: "", port, anyHost };
  }
  if (forBind) host = interfaceAddress(host) ?? host;
  return { protocol: "tcp", address, host, port, anyHost };
}

/** libzmq lets a bind name a network interface ("tcp://lo:5555"); map it to its first address. */
function interfaceAddress(name: string): string | undefined {
  const ifs = networkInterfaces()[name];
  if (!ifs || ifs.length === 0) return undefined;
  return (ifs.find((i) => i.family === "IPv4") ?? ifs[0])!.address;
}

/** The canonical form libzmq reports for a bound or connected tcp endpoint. */
export function formatTcp(host: string, port: number): string {
  return host.includes(":") ? `tcp://[${host}]:${port}` : `tcp://${host}:${port}`;
}
