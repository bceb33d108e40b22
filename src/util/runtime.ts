/**
 * What the JavaScript runtime underneath can do, where runtimes differ.
 *
 * Abstract unix sockets (ipc://@name): Node 20's libuv binds the name padded to the
 * whole 108-byte sun_path, so libzmq, Node 22, Bun and Deno — which use the exact
 * length — cannot reach it (and it cannot reach them); only Node-20-to-Node-20 works.
 */
/** The JavaScript runtime underneath: Node, Bun or Deno (both of which also set process.versions.node). */
export const runtimeName: "node" | "bun" | "deno" =
  typeof (globalThis as { Deno?: unknown }).Deno !== "undefined" ? "deno"
  : typeof (process.versions as Record<string, string | undefined>).bun !== "undefined" ? "bun"
  : "node";
const isNode = runtimeName === "node";
const nodeMajor = Number(process.versions.node.split(".")[0]);

/**
 * Bun and Deno run TypeScript files as they are (module and worker entries included);
 * Node needs a loader (tsx) registered first.
 */
export const nativeTypeScript: boolean = !isNode;

export const abstractIpcInteroperable: boolean = process.platform === "linux" && !(isNode && nodeMajor < 22);

let warned = false;

/** Says once, clearly, when an abstract ipc endpoint will not interoperate here. */
export function warnAbstractIpc(address: string): void {
  if (abstractIpcInteroperable || warned || process.platform !== "linux") return;
  warned = true;
  process.emitWarning(
    `${address}: on Node ${process.versions.node} abstract ipc names are padded, so libzmq peers (and Node >= 22, Bun, Deno) cannot reach this endpoint; ` +
      "use a path (ipc:///tmp/name) or Node >= 22 (capability.ipcAbstract is false)",
  );
}
