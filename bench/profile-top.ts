/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): the functions with the most self
 * time, and self time per source file, optionally only for samples inside a time window
 * (µs on process.hrtime's clock — bench/case.ts reports its measured window as
 * `hrWindowUs`, and `npm run bench -- --cpu-prof` passes it here for each case).
 *
 *   node --import tsx bench/profile-top.ts <file.cpuprofile> [--from=<µs>] [--to=<µs>] [--top=25]
 *   node --import tsx bench/profile-top.ts <file.cpuprofile> --callers=<function name> [--depth=3]
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { relative, dirname, join } from "node:path";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

function where(cf: CallFrame): string {
  if (!cf.url) return "";
  let u = cf.url.startsWith("file://") ? fileURLToPath(cf.url) : cf.url;
  if (u.startsWith(root)) u = relative(root, u);
  // tsx's transpiled modules can be one long line: then the column tells functions apart.
  return cf.lineNumber === 0 ? `${u}:1:${cf.columnNumber + 1}` : `${u}:${cf.lineNumber + 1}`;
}

function fileOf(cf: CallFrame): string {
  if (!cf.url) {
    const n = cf.functionName;
    return n === "(garbage collector)" || n === "(idle)" || n === "(program)" ? n : "(native / builtin)";
  }
  let u = cf.url.startsWith("file://") ? fileURLToPath(cf.url) : cf.url;
  if (u.startsWith(root)) u = relative(root, u);
  return u;
}

export interface Summary {
  totalMs: number;
  top: { name: string; where: string; selfMs: number; pct: number }[];
  files: { file: string; selfMs: number; pct: number }[];
}

export function summarise(path: string, from = -Infinity, to = Infinity, topN = 25): Summary {
  const p = JSON.parse(readFileSync(path, "utf8")) as Profile;
  const byId = new Map<number, ProfileNode>();
  for (const n of p.nodes) byId.set(n.id, n);
  const self = new Map<number, number>();
  let t = p.startTime;
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i]!;
    if (t < from || t > to) continue;
    // A sample's time is the gap to the next one (V8 attributes the delta that way round too).
    const dt = i + 1 < p.timeDeltas.length ? p.timeDeltas[i + 1]! : 0;
    const id = p.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + dt);
    total += dt;
  }
  const fn = new Map<string, { name: string; where: string; us: number }>();
  const files = new Map<string, number>();
  for (const [id, us] of self) {
    const cf = byId.get(id)!.callFrame;
    const w = where(cf);
    const key = `${cf.functionName}@${w}`;
    const e = fn.get(key) ?? { name: cf.functionName || "(anonymous)", where: w, us: 0 };
    e.us += us;
    fn.set(key, e);
    const f = fileOf(cf);
    files.set(f, (files.get(f) ?? 0) + us);
  }
  const pct = (us: number) => (total ? (100 * us) / total : 0);
  return {
    totalMs: total / 1000,
    top: [...fn.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, topN)
      .map((e) => ({ name: e.name, where: e.where, selfMs: e.us / 1000, pct: pct(e.us) })),
    files: [...files.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([file, us]) => ({ file, selfMs: us / 1000, pct: pct(us) })),
  };
}

/** Who calls `name` (self time of `name`, by the stack of `depth` callers above it). */
export function callers(path: string, name: string, from = -Infinity, to = Infinity, depth = 3, topN = 8): string {
  const p = JSON.parse(readFileSync(path, "utf8")) as Profile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const stacks = new Map<string, number>();
  let total = 0;
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i]!;
    if (t < from || t > to) continue;
    const id = p.samples[i]!;
    if (byId.get(id)!.callFrame.functionName !== name) continue;
    const dt = i + 1 < p.timeDeltas.length ? p.timeDeltas[i + 1]! : 0;
    const chain: string[] = [];
    let cur = parent.get(id);
    while (cur !== undefined && chain.length < depth) {
      const cf = byId.get(cur)!.callFrame;
      chain.push(`${cf.functionName || "(anonymous)"}${cf.url ? ` (${where(cf)})` : ""}`);
      cur = parent.get(cur);
    }
    const key = chain.join(" <- ");
    stacks.set(key, (stacks.get(key) ?? 0) + dt);
    total += dt;
  }
  const rows = [...stacks.entries()].sort((a, b) => b[1] - a[1]).slice(0, topN);
  return [`${name}: ${(total / 1000).toFixed(1)} ms self, called from:`, ...rows.map(([k, us]) => `  ${(us / 1000).toFixed(1).padStart(8)} ms  <- ${k}`)].join("\n");
}

export function format(s: Summary): string {
  const out: string[] = [];
  out.push(`${s.totalMs.toFixed(0)} ms sampled`);
  out.push("  self%   self ms  function (where)");
  for (const e of s.top) out.push(`  ${e.pct.toFixed(1).padStart(5)}  ${e.selfMs.toFixed(1).padStart(8)}  ${e.name}${e.where ? ` (${e.where})` : ""}`);
  out.push("  by file:");
  for (const f of s.files) out.push(`  ${f.pct.toFixed(1).padStart(5)}  ${f.selfMs.toFixed(1).padStart(8)}  ${f.file}`);
  return out.join("\n");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith("--"));
  if (!file) {
    console.error("usage: bench/profile-top.ts <file.cpuprofile> [--from=<µs>] [--to=<µs>] [--top=25]");
    process.exit(2);
  }
  const num = (name: string, d: number) => {
    const v = args.find((a) => a.startsWith(`--${name}=`));
    return v ? Number(v.slice(name.length + 3)) : d;
  };
  const who = args.find((a) => a.startsWith("--callers="))?.slice("--callers=".length);
  if (who) console.log(callers(file, who, num("from", -Infinity), num("to", Infinity), num("depth", 3)));
  else console.log(format(summarise(file, num("from", -Infinity), num("to", Infinity), num("top", 25))));
}
