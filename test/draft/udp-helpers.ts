import { createSocket } from "node:dgram";
import { runtimeLabel } from "../helpers/runtime.js";

/** A udp port that was free a moment ago (libzmq reports no port for `udp://...:*`, so interop tests pick one). */
export async function freeUdpPort(): Promise<number> {
  const sock = createSocket("udp4");
  await new Promise<void>((resolve, reject) => {
    sock.once("error", reject);
    sock.bind(0, "127.0.0.1", () => resolve());
  });
  const { port } = sock.address();
  await new Promise<void>((resolve) => sock.close(() => resolve()));
  return port;
}

/** A multicast group of our own (239/8 is administratively scoped: it never leaves the host with TTL 1). */
export function testGroup(): string {
  return `239.${1 + (process.pid % 200)}.${Math.floor(Math.random() * 250) + 1}.${Math.floor(Math.random() * 250) + 1}`;
}

/**
 * Why multicast over loopback cannot be tested on this runtime, or null when it can: we try
 * joining a group on the 127.0.0.1 interface and sending to it with node:dgram, as the
 * udp transport does. (On Linux, lo needs no MULTICAST flag when the interface is named
 * by address: IP_MULTICAST_IF / IP_ADD_MEMBERSHIP on 127.0.0.1 work regardless.)
 */
export async function multicastGap(): Promise<string | null> {
  const group = testGroup();
  const rx = createSocket({ type: "udp4", reuseAddr: true });
  const tx = createSocket("udp4");
  try {
    await new Promise<void>((resolve, reject) => {
      rx.once("error", reject);
      rx.bind(0, "0.0.0.0", () => resolve());
    });
    rx.addMembership(group, "127.0.0.1");
    await new Promise<void>((resolve, reject) => {
      tx.once("error", reject);
      tx.bind(0, () => resolve());
    });
    tx.setMulticastInterface("127.0.0.1");
    tx.setMulticastLoopback(true);
    const port = rx.address().port;
    const heard = new Promise<boolean>((resolve) => {
      rx.once("message", () => resolve(true));
      setTimeout(() => resolve(false), 1000).unref();
    });
    tx.send("probe", port, group);
    if (!(await heard)) return `${runtimeLabel}: a datagram sent to ${group} on the 127.0.0.1 interface never arrived (multicast on loopback is not routed here)`;
    return null;
  } catch (e) {
    return `${runtimeLabel}: node:dgram multicast on loopback is unavailable (${(e as Error).message})`;
  } finally {
    try { rx.close(); } catch { /* closed */ }
    try { tx.close(); } catch { /* closed */ }
  }
}
