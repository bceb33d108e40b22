import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { tsCommand } from "../helpers/runtime.js";

const root = join(process.cwd());
const MAIN = join(root, "src", "cli", "main.ts");

export interface Cli {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code; rejects if the process is still running after `ms`. */
  exit(ms: number): Promise<number | null>;
  /** Resolves with the first line of stderr matching `re`, within `ms`. */
  waitStderr(re: RegExp, ms: number): Promise<RegExpMatchArray>;
  kill(): void;
}

/** Spawns `node --import tsx src/cli/main.ts ...args` (or its equivalent on Bun and Deno: tsCommand). */
export function cli(...args: string[]): Cli {
  const child = spawn(...tsCommand(MAIN, ...args), { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exit: (ms) => bounded(exited, ms, `exit of zmq-ts ${args.join(" ")}\nstdout: ${out}\nstderr: ${err}`),
    waitStderr: (re, ms) => bounded(new Promise<RegExpMatchArray>((resolve) => {
      const check = () => {
        const m = err.match(re);
        if (m) {
          child.stderr!.off("data", check);
          resolve(m);
        }
      };
      child.stderr!.on("data", check);
      check();
    }), ms, `${re} on stderr of zmq-ts ${args.join(" ")}`),
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}

export function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

/** The endpoint a CLI printed as "bound tcp://..." on stderr. */
export async function boundEndpoint(c: Cli, ms = 8000): Promise<string> {
  return (await c.waitStderr(/bound (tcp:\/\/\S+)/, ms))[1]!;
}
