import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";

/** Rejects after `ms` with a message naming what was awaited: every wait in the tests is bounded. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A fresh endpoint for the given transport; tcp endpoints are bound with an ephemeral port. */
export function endpointFor(transport: "tcp" | "ipc" | "inproc"): string {
  const id = randomBytes(6).toString("hex");
  if (transport === "tcp") return "tcp://127.0.0.1:*";
  if (transport === "ipc") return `ipc://${join(tmpdir(), `zmq-ts-test-${id}`)}`;
  return `inproc://test-${id}`;
}

/** Binds `a` and connects `b` to where it bound; returns the address used. */
export async function link(a: { bind(x: string): Promise<void>; lastEndpoint: string | null }, b: { connect(x: string): void }, transport: "tcp" | "ipc" | "inproc"): Promise<string> {
  const ep = endpointFor(transport);
  await a.bind(ep);
  const address = transport === "tcp" ? a.lastEndpoint! : ep;
  b.connect(address);
  return address;
}

export const transports = ["tcp", "ipc", "inproc"] as const;

export const str = (frames: Buffer[]) => frames.map((f) => f.toString());
