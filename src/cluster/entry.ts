/**
 * Where the engine entry (engine-main) is, and how to start it in a worker thread or a
 * child process — as src/devices/background.ts does for its device worker: the entry is
 * next to this module (engine-main.js in a build, engine-main.ts under tsx), found
 * without import.meta (the CommonJS build has none); a TypeScript entry needs tsx
 * loaded in the thread / child, which do not inherit `--import tsx`.
 */
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { dirname, extname, isAbsolute, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** This module's own file (a path, or a file: URL). */
function ownFile(): string {
  // CommonJS defines __filename; an eval'd worker defines a global "[worker eval]" one, not ours.
  if (typeof __filename === "string" && isAbsolute(__filename)) return __filename;
  const savedPrepare = Error.prepareStackTrace;
  const savedLimit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = 1;
    // The raw call sites: their file names are the loaded modules' (not source-mapped).
    Error.prepareStackTrace = (_e, sites) => sites;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder);
    const sites = holder.stack as NodeJS.CallSite[] | undefined;
    const name = sites?.[0]?.getFileName();
    if (!name) throw new Error("cannot locate the engine entry; give the engineEntry option");
    return name;
  } finally {
    Error.prepareStackTrace = savedPrepare;
    Error.stackTraceLimit = savedLimit;
  }
}

/** Bun and Deno run TypeScript entries as they are; only Node needs tsx loaded in the thread / child. */
const nativeTypeScript = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" || typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

export interface Entry {
  /** Absolute path of the entry. */
  path: string;
  /** The entry is TypeScript and the runtime needs tsx loaded first (Node only). */
  ts: boolean;
}

function toPath(f: string | URL): string {
  if (f instanceof URL) return fileURLToPath(f);
  return f.startsWith("file:") ? fileURLToPath(f) : f;
}

/** The engine entry: the one given, or engine-main next to this module. */
export function engineEntry(given?: string | URL): Entry {
  if (given !== undefined) {
    const path = toPath(given);
    return { path, ts: /\.[cm]?ts$/.test(path) && !nativeTypeScript };
  }
  const self = toPath(ownFile());
  const ext = extname(self);
  return { path: join(dirname(self), `engine-main${ext}`), ts: /^\.[cm]?ts$/.test(ext) && !nativeTypeScript };
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** tsx's loader (for a child's --import) and its API (to register in a worker), as file URLs. */
export function tsxFiles(from: string): { loader: string; api: string } {
  try {
    const req = createRequire(from);
    const pkgPath = req.resolve("tsx/package.json");
    const pkg = JSON.parse(readFileSync(pkgPath, "utf8")) as { exports?: Record<string, unknown> };
    const root = dirname(pkgPath);
    const pick = (e: unknown): string | undefined => {
      if (typeof e === "string") return e;
      if (isObject(e)) return pick(e.import) ?? pick(e.default);
      return undefined;
    };
    const loader = pick(pkg.exports?.["."]);
    const api = pick(pkg.exports?.["./esm/api"]);
    if (!loader || !api) throw new Error("unexpected tsx package layout");
    return { loader: pathToFileURL(join(root, loader)).href, api: pathToFileURL(join(root, api)).href };
  } catch {
    return { loader: "tsx", api: "tsx/esm/api" };
  }
}

/**
 * The code a Worker evaluates to run a TypeScript entry under tsx. An eval'd worker has
 * global __filename / __dirname ("[worker eval]"); they are removed first, or modules
 * that find their own file through __filename (ThreadDevice's, for the engine's heart)
 * would take them for theirs.
 */
export function tsWorkerCode(entry: Entry): string {
  const { api } = tsxFiles(entry.path);
  return `delete globalThis.__filename; delete globalThis.__dirname; import(${JSON.stringify(api)}).then((api) => { api.register(); return import(${JSON.stringify(pathToFileURL(entry.path).href)}); });`;
}
