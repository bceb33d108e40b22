import { randomBytes } from "node:crypto";
import type { Socket } from "../../src/compat/index.js";
import { within } from "../helpers/util.js";

export { within };

/** The next `event` emitted by `emitter`, as its argument list, within `ms`. */
export function next(emitter: Socket, event: string, ms = 3000): Promise<any[]> {
  return within(new Promise<any[]>((resolve) => emitter.once(event, (...args: any[]) => resolve(args))), ms, `"${event}"`);
}

/** `n` "message" events of `sock`, each as its frames (as strings), within `ms`. */
export function messages(sock: Socket, n: number, ms = 3000): Promise<string[][]> {
  const got: string[][] = [];
  return within(
    new Promise<string[][]>((resolve) => {
      const on = (...frames: Buffer[]) => {
        got.push(frames.map(String));
        if (got.length === n) {
          sock.off("message", on);
          resolve(got);
        }
      };
      sock.on("message", on);
    }),
    ms,
    `${n} messages (got ${got.length})`,
  );
}

/** Binds with the callback API; resolves with the bound endpoint (the ephemeral port resolved). */
export function bound(sock: Socket, address: string, ms = 3000): Promise<string> {
  return within(
    new Promise<string>((resolve, reject) => sock.bind(address, (err) => (err ? reject(err) : resolve(sock.getsockopt("last_endpoint") as string)))),
    ms,
    `bind ${address}`,
  );
}

export const inproc = () => `inproc://compat-${randomBytes(6).toString("hex")}`;
export const tcp = "tcp://127.0.0.1:*";
/** Each test runs over tcp and inproc: a function giving a fresh address per transport. */
export const protos: ReadonlyArray<readonly [string, () => string]> = [["tcp", () => tcp], ["inproc", inproc]];

export const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function closeAll(...socks: Array<Socket | undefined>): void {
  for (const s of socks) s?.close();
}
