import { isIPv4 } from "node:net";
import { networkInterfaces } from "node:os";
import { zmqError } from "../errors.js";

/**
 * A udp:// endpoint as libzmq 4.3 reads it:
 *   udp://host:port              unicast: the address to bind (bind) or send to (connect);
 *                                multicast: the group, joined/sent on the default interface
 *   udp://iface;group:port       multicast only: `iface` is a NIC name, an IPv4 address or *
 * A bind may use * for the host, and * or 0 for the port (an ephemeral one).
 */
export interface UdpEndpoint {
  protocol: "udp";
  address: string;
  /** Where datagrams go (connect) or the unicast address we listen on (bind); a name only on connect. */
  host: string;
  port: number;
  multicast: boolean;
  /** The IPv4 address of the interface named before ';' ("0.0.0.0" for *), or null. */
  iface: string | null;
}

export function isMulticast(host: string): boolean {
  if (!isIPv4(host)) return false;
  const first = Number(host.slice(0, host.indexOf(".")));
  return first >= 224 && first <= 239;
}

/** A NIC name's first IPv4 address (libzmq lets udp endpoints name interfaces). */
function nicAddress(name: string): string | undefined {
  return networkInterfaces()[name]?.find((i) => i.family === "IPv4")?.address;
}

export function parseUdp(address: string, rest: string, forBind: boolean): UdpEndpoint {
  const bad = () => zmqError("EINVAL", "Invalid argument", address);
  let iface: string | null = null;
  const semi = rest.lastIndexOf(";");
  if (semi >= 0) {
    const src = rest.slice(0, semi);
    if (src.length === 0) throw bad();
    if (src === "*") iface = "0.0.0.0";
    else if (isIPv4(src)) iface = src;
    else iface = nicAddress(src) ?? null;
    if (iface === null) throw zmqError("ENODEV", "No such device", address);
    if (isMulticast(iface)) throw bad();
    rest = rest.slice(semi + 1);
  }
  const colon = rest.lastIndexOf(":");
  if (colon <= 0) throw bad();
  let host = rest.slice(0, colon);
  const portText = rest.slice(colon + 1);
  let port: number;
  if (forBind && (portText === "*" || portText === "0")) {
    port = 0;
  } else {
    if (!/^\d{1,5}$/.test(portText)) throw bad();
    port = Number(portText);
    if (port < 1 || port > 65535) throw bad();
  }
  if (host === "*" && forBind) host = "0.0.0.0";
  else if (forBind && !isIPv4(host)) host = nicAddress(host) ?? host;
  // IPv4 only, as libzmq 4.3's udp without ipv6; a connect may name a host (resolved when it opens).
  if (forBind ? !isIPv4(host) : host.length === 0 || host.includes(":")) throw bad();
  const multicast = isMulticast(host);
  if (iface !== null && !multicast) throw bad();
  return { protocol: "udp", address, host, port, multicast, iface };
}

/**
 * The address frame of a DGRAM message: "ip:port", with or without the NUL that
 * libzmq writes after it. Null when it is not a numeric IPv4 address and port (libzmq
 * drops such a message).
 */
export function parseDgramAddress(frame: Buffer): { host: string; port: number } | null {
  let end = frame.length;
  while (end > 0 && frame[end - 1] === 0) end--;
  const text = frame.toString("latin1", 0, end);
  const colon = text.lastIndexOf(":");
  if (colon <= 0) return null;
  const host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (!isIPv4(host) || !/^\d{1,5}$/.test(portText)) return null;
  const port = Number(portText);
  return port >= 1 && port <= 65535 ? { host, port } : null;
}

/** The address frame libzmq gives a DGRAM receiver: "ip:port" and a terminating NUL. */
export function dgramAddressFrame(host: string, port: number): Buffer {
  return Buffer.from(`${host}:${port}\0`, "latin1");
}
