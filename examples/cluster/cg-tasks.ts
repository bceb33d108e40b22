/**
 * Engine-side code of the main job: a conjugate-gradient solve of the 2-D Poisson
 * equation (the 5-point Laplacian on an n x n grid, Dirichlet boundary), with the grid
 * split by rows across the engines of the call. Engines talk to each other directly:
 *
 *   - every iteration, each engine sends its first and last grid row to its neighbours
 *     and receives theirs (point-to-point over the mesh: the halo exchange);
 *   - the two dot products of each iteration are allreduces over all engines.
 *
 * The right-hand side is built from a known solution, so the result can be checked:
 * the engines report the largest error against it.
 */
import { taskContext } from "../../src/cluster/index.js";

export interface SolveOptions {
  /** Grid points per side (unknowns: n * n). */
  n: number;
  /** Stop when ||r|| / ||b|| falls below this. */
  tolerance: number;
  maxIterations: number;
  /** Publish progress every this many iterations (rank 0 only; 0: never). */
  progressEvery: number;
}

export interface SlabResult {
  rank: number;
  rows: [number, number];
  iterations: number;
  relativeResidual: number;
  maxError: number;
  /** Milliseconds spent on local arithmetic, the halo exchange, and the allreduces. */
  ms: { compute: number; halo: number; allreduce: number; total: number };
}

/** The rows [first, end) of an n-row grid that rank r of size p owns: as even as possible. */
function rowsOf(n: number, rank: number, size: number): [number, number] {
  const base = Math.floor(n / size);
  const extra = n % size;
  const first = rank * base + Math.min(rank, extra);
  return [first, first + base + (rank < extra ? 1 : 0)];
}

export async function solveSlab(options: SolveOptions): Promise<SlabResult> {
  const ctx = taskContext();
  const comm = ctx.comm;
  const { n, tolerance, maxIterations, progressEvery } = options;
  const [first, end] = rowsOf(n, comm.rank, comm.size);
  const rows = end - first;
  const up = comm.rank > 0 ? comm.rank - 1 : -1;
  const down = comm.rank < comm.size - 1 ? comm.rank + 1 : -1;
  const ms = { compute: 0, halo: 0, allreduce: 0, total: 0 };
  const started = performance.now();

  // Local vectors hold this slab's rows; p has a halo row above and below.
  const len = rows * n;
  const x = new Float64Array(len);
  const exact = new Float64Array(len);
  const b = new Float64Array(len);
  const r = new Float64Array(len);
  const p = new Float64Array(len + 2 * n);
  const Ap = new Float64Array(len);
  const h = 1 / (n + 1);
  for (let i = 0; i < rows; i++) {
    const gi = first + i + 1;
    for (let j = 0; j < n; j++) {
      exact[i * n + j] = Math.sin(Math.PI * gi * h) * Math.sin(2 * Math.PI * (j + 1) * h) + gi * h * (j + 1) * h;
    }
  }
  // b = A * exact, with the neighbours' boundary rows of `exact` exchanged once.
  p.set(exact, n);
  await exchangeHalo(p);
  matvec(p, b);

  const allreduce = async (v: number): Promise<number> => {
    const t = performance.now();
    const s = (await comm.allreduce(v, "sum")) as number;
    ms.allreduce += performance.now() - t;
    return s;
  };
  async function exchangeHalo(v: Float64Array): Promise<void> {
    const t = performance.now();
    // Copies of the boundary rows: v changes in place before the next exchange.
    const sends: Promise<void>[] = [];
    if (up >= 0) sends.push(comm.send(up, v.slice(n, 2 * n)));
    if (down >= 0) sends.push(comm.send(down, v.slice(rows * n, (rows + 1) * n)));
    if (up >= 0) v.set((await comm.recv(up)) as Float64Array, 0);
    if (down >= 0) v.set((await comm.recv(down)) as Float64Array, (rows + 1) * n);
    await Promise.all(sends);
    ms.halo += performance.now() - t;
  }
  function matvec(v: Float64Array, out: Float64Array): void {
    // v is offset by one halo row; missing neighbours (the domain boundary) are zero.
    const t = performance.now();
    for (let i = 0; i < rows; i++) {
      const hasUp = i > 0 || up >= 0;
      const hasDown = i < rows - 1 || down >= 0;
      for (let j = 0; j < n; j++) {
        const k = (i + 1) * n + j;
        let s = 4 * v[k]!;
        if (hasUp) s -= v[k - n]!;
        if (hasDown) s -= v[k + n]!;
        if (j > 0) s -= v[k - 1]!;
        if (j < n - 1) s -= v[k + 1]!;
        out[i * n + j] = s;
      }
    }
    ms.compute += performance.now() - t;
  }
  const dot = (a: Float64Array, c: Float64Array, offsetA = 0): number => {
    const t = performance.now();
    let s = 0;
    for (let i = 0; i < len; i++) s += a[i + offsetA]! * c[i]!;
    ms.compute += performance.now() - t;
    return s;
  };

  // CG from x = 0: r = b, p = r.
  r.set(b);
  p.fill(0);
  p.set(r, n);
  const bNorm = Math.sqrt(await allreduce(dot(b, b)));
  let rr = await allreduce(dot(r, r));
  let iterations = 0;
  while (iterations < maxIterations && Math.sqrt(rr) / bNorm > tolerance) {
    await exchangeHalo(p);
    matvec(p, Ap);
    const alpha = rr / (await allreduce(dot(p, Ap, n)));
    let t = performance.now();
    for (let i = 0; i < len; i++) {
      x[i] += alpha * p[i + n]!;
      r[i] -= alpha * Ap[i]!;
    }
    ms.compute += performance.now() - t;
    const rrNext = await allreduce(dot(r, r));
    const beta = rrNext / rr;
    rr = rrNext;
    t = performance.now();
    for (let i = 0; i < len; i++) p[i + n] = r[i]! + beta * p[i + n]!;
    ms.compute += performance.now() - t;
    iterations++;
    if (progressEvery > 0 && comm.rank === 0 && iterations % progressEvery === 0) {
      ctx.publish({ iteration: iterations, relativeResidual: Math.sqrt(rr) / bNorm });
    }
  }
  let maxError = 0;
  for (let i = 0; i < len; i++) maxError = Math.max(maxError, Math.abs(x[i]! - exact[i]!));
  maxError = (await comm.allreduce(maxError, "max")) as number;
  ms.total = performance.now() - started;
  return { rank: comm.rank, rows: [first, end], iterations, relativeResidual: Math.sqrt(rr) / bNorm, maxError, ms };
}

/** A no-op task (the benchmark's unit of scheduling overhead). */
export function noop(): null {
  return null;
}
