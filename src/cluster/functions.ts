/**
 * What an apply_request's `fn` names, and how an engine finds it:
 *
 *   "./tasks.js#integrate"   a module's export, the module resolved against the engine's
 *                            moduleRoot (default the engine's cwd); "./tasks.js" alone
 *                            is its default export; bare names ("pkg#fn") resolve as a
 *                            package from moduleRoot, absolute paths and file: URLs as given
 *   { source: "(a, b) => a + b" }
 *                            a function sent as source text — only on an engine started
 *                            with allowSource (it runs arbitrary code); refused otherwise
 *   { builtin: "push" | "pull" | "map", fn? }
 *                            the engine's own: named values, and map over a chunk
 */
import { createRequire } from "node:module";
import { isAbsolute, join, resolve as resolvePath } from "node:path";
import { pathToFileURL } from "node:url";
import { ClusterError } from "./errors.js";

/** A reference to a function, as it travels in apply_request.content.fn. */
export type FunctionRef = string | { source: string } | { builtin: "push" | "pull" | "map"; fn?: FunctionRef };

// A real dynamic import in the CommonJS build too (TypeScript would turn import() into require()).
const dynamicImport = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<Record<string, unknown>>;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** Checks the shape of a reference from the wire; EPROTO when it is not one. */
export function checkFunctionRef(v: unknown, depth = 0): FunctionRef {
  if (typeof v === "string" && v.length > 0) return v;
  if (isObject(v)) {
    if (typeof v.source === "string" && Object.keys(v).length === 1) return { source: v.source };
    if ((v.builtin === "push" || v.builtin === "pull") && v.fn === undefined) return { builtin: v.builtin };
    if (v.builtin === "map" && depth === 0) return { builtin: "map", fn: checkFunctionRef(v.fn, 1) };
  }
  throw new ClusterError("EPROTO", `not a function reference: ${JSON.stringify(v)?.slice(0, 100)}`);
}

export interface ResolveOptions {
  moduleRoot: string;
  allowSource: boolean;
}

/** Splits "spec#export" (the last #; no # means the default export). */
export function splitSpec(ref: string): { spec: string; name: string } {
  const at = ref.lastIndexOf("#");
  return at < 0 ? { spec: ref, name: "default" } : { spec: ref.slice(0, at), name: ref.slice(at + 1) || "default" };
}

function moduleUrl(spec: string, moduleRoot: string): string {
  if (spec.startsWith("file:") || spec.startsWith("node:") || spec.startsWith("data:")) return spec;
  if (isAbsolute(spec)) return pathToFileURL(spec).href;
  if (spec.startsWith("./") || spec.startsWith("../") || spec === "." || spec === "..") {
    return pathToFileURL(resolvePath(moduleRoot, spec)).href;
  }
  try {
    return pathToFileURL(createRequire(join(moduleRoot, "__zmq-ts-engine__.js")).resolve(spec)).href;
  } catch {
    return spec;
  }
}

const sourceCache = new Map<string, (...args: unknown[]) => unknown>();
const moduleCache = new Map<string, (...args: unknown[]) => unknown>();

/** The function a reference names (not builtins: the engine handles those). */
export async function resolveFunction(ref: string | { source: string }, options: ResolveOptions): Promise<(...args: unknown[]) => unknown> {
  if (typeof ref !== "string") {
    if (!options.allowSource) {
      throw new ClusterError("EINVAL", "this engine does not run functions sent as source; start it with allowSource: true, or name a module export (\"./tasks.js#fn\")");
    }
    let fn = sourceCache.get(ref.source);
    if (!fn) {
      let made: unknown;
      try {
        made = new Function(`return (${ref.source}\n);`)();
      } catch (e) {
        throw new ClusterError("EINVAL", `the function source does not compile: ${(e as Error).message}`);
      }
      if (typeof made !== "function") throw new ClusterError("EINVAL", "the source is not a function");
      fn = made as (...args: unknown[]) => unknown;
      if (sourceCache.size > 1000) sourceCache.clear();
      sourceCache.set(ref.source, fn);
    }
    return fn;
  }
  // import() of an already loaded module still runs the loader's resolve hooks (a round
  // trip to the hooks thread under tsx, ~1-3 ms): resolve each reference once.
  const cacheKey = `${options.moduleRoot}\0${ref}`;
  const cached = moduleCache.get(cacheKey);
  if (cached) return cached;
  const { spec, name } = splitSpec(ref);
  const url = moduleUrl(spec, options.moduleRoot);
  let mod: Record<string, unknown>;
  try {
    mod = await dynamicImport(url);
  } catch (e) {
    throw new ClusterError("EINVAL", `cannot load module ${JSON.stringify(spec)} (from ${options.moduleRoot}): ${(e as Error).message}`);
  }
  let fn = mod[name];
  // A CommonJS module's exports arrive under default.
  if (fn === undefined && isObject(mod.default)) fn = (mod.default as Record<string, unknown>)[name];
  if (typeof fn !== "function") {
    throw new ClusterError("EINVAL", `module ${JSON.stringify(spec)} has no function export ${JSON.stringify(name)}`);
  }
  if (moduleCache.size > 1000) moduleCache.clear();
  moduleCache.set(cacheKey, fn as (...args: unknown[]) => unknown);
  return fn as (...args: unknown[]) => unknown;
}
