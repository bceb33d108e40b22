/**
 * What the tests need to know about the runtime they run on (Node, Bun or Deno), and how to
 * start child processes on it. scripts/test-runtime-suite.mjs runs the suite on each.
 */
import { runtimeName } from "../../src/util/runtime.js";

export { runtimeName };

const versions = process.versions as Record<string, string | undefined>;

/** "node 20.20.2", "bun 1.4.5", "deno 2.9.6". */
export const runtimeLabel: string =
  runtimeName === "deno" ? `deno ${(globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno}`
  : runtimeName === "bun" ? `bun ${versions.bun}`
  : `node ${process.versions.node}`;

/**
 * The command line that runs the TypeScript file `file` (with `args`) in a child process of
 * this same runtime: Node needs tsx (`--import tsx`); Bun runs TypeScript as it is; Deno
 * does too, given `--sloppy-imports` so that the sources' "./x.js" specifiers find ./x.ts
 * (as tsc and tsx resolve them).
 */
export function tsCommand(file: string, ...args: string[]): [string, string[]] {
  switch (runtimeName) {
    case "bun": return [process.execPath, [file, ...args]];
    case "deno": return [process.execPath, ["run", "-A", "--sloppy-imports", "--no-lock", file, ...args]];
    default: return [process.execPath, ["--import", "tsx", file, ...args]];
  }
}

/**
 * A Node binary, for peers that must run on Node: the zeromq.js peer (the npm `zeromq`
 * package is a native addon). Under Bun and Deno: $ZMQ_TS_PEER_NODE, else `node` on the PATH.
 * The subject under test still runs on this runtime; only the libzmq peer process is Node.
 */
export const nodeForPeers: string = runtimeName === "node" ? process.execPath : (process.env.ZMQ_TS_PEER_NODE ?? "node");

/**
 * Why the npm `zeromq` native addon cannot run inside this process, or null when it can.
 * - Bun 1.x aborts as soon as zeromq.js starts: its N-API has no libuv `uv_poll_init_socket`
 *   (oven-sh/bun#18546), so the attempt would crash the whole test file.
 * - Deno 2 loads it, but its libuv emulation runs it unreliably: zeromq.js peers under Deno
 *   died of SIGSEGV in the interop suite's peer-restart cases, and a zeromq.js ZAP handler
 *   stopped answering after its first request.
 * (The interop suite's zeromq.js peer runs on Node instead: nodeForPeers.)
 */
export const zeromqInProcessGap: string | null =
  runtimeName === "bun"
    ? `Bun ${versions.bun} cannot load the npm zeromq native addon in-process: its N-API lacks libuv's uv_poll_init_socket (oven-sh/bun#18546)`
    : runtimeName === "deno"
      ? "Deno runs the npm zeromq native addon unreliably in-process (SIGSEGV in zeromq.js peers; a zeromq.js ZAP handler stops answering after its first request)"
      : null;

