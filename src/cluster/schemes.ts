/**
 * Load-balancing schemes, IPython's: given the engines that can take a task now, in
 * least-recently-used order (the scheduler moves an engine to the end of the line each
 * time it gives it a task), and each one's load (tasks outstanding on it), choose one.
 *
 *   lru        the engine that got a task longest ago (the head of the line)
 *   leastload  the fewest outstanding tasks; ties go to the least recently used
 *   random     any, uniformly
 *   twobin     two at random, the less recently used of them (the "power of two choices")
 *
 * A scheme is a plain function, so a custom one can be given to the scheduler.
 */

/** Returns the index, into `loads`, of the chosen engine; `loads` is non-empty. */
export type Scheme = (loads: readonly number[]) => number;

export const lru: Scheme = () => 0;

export const leastload: Scheme = (loads) => {
  let best = 0;
  for (let i = 1; i < loads.length; i++) if (loads[i]! < loads[best]!) best = i;
  return best;
};

export const random: Scheme = (loads) => Math.floor(Math.random() * loads.length);

export const twobin: Scheme = (loads) => {
  const a = Math.floor(Math.random() * loads.length);
  const b = Math.floor(Math.random() * loads.length);
  return Math.min(a, b);
};

export const SCHEMES = { lru, leastload, random, twobin } as const;

export type SchemeName = keyof typeof SCHEMES;

/** A scheme by name (EINVAL-style TypeError for an unknown one), or the function given. */
export function schemeFor(scheme: SchemeName | Scheme | undefined): { name: string; choose: Scheme } {
  if (scheme === undefined) return { name: "leastload", choose: leastload };
  if (typeof scheme === "function") return { name: scheme.name || "custom", choose: scheme };
  const choose = (SCHEMES as Record<string, Scheme>)[scheme];
  if (!choose) throw new TypeError(`unknown task scheme ${JSON.stringify(scheme)} (${Object.keys(SCHEMES).join(", ")})`);
  return { name: scheme, choose };
}
