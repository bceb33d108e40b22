/**
 * Collectives among the engines of one job (MPI's communicator): rank = this engine's
 * index in the sorted group.
 *
 * Every message of a collective is tagged with the job (by the mesh), this comm's
 * sequence number and the step, so concurrent jobs, consecutive collectives and the
 * steps of one never mix; the mesh's mailbox keeps a message that arrives before its
 * recv. Each rank must call the same collectives in the same order with matching
 * arguments (same dtype and length for reductions), as in MPI.
 *
 * Algorithms (see docs/CLUSTER.md, "Collectives"):
 * - allreduce below DOUBLING_MAX_BYTES: recursive doubling — ⌈log₂ p⌉ rounds of
 *   pairwise exchanges (two more hops for the extra ranks when p is not a power of 2).
 * - reduce below `ringThreshold` bytes (and allreduce between the two): a binomial tree
 *   to the root, then (allreduce) a binomial tree broadcast of the root's result.
 * - reduce / allreduce from `ringThreshold` up: ring reduce-scatter (each rank reduces
 *   one p-th of the array), then a ring allgather (allreduce) or a gather of the
 *   reduced segments at the root (reduce) — each rank sends 2·(p−1)/p of the array.
 *   Not by default for a group whose ranks all share one host with fewer cores than
 *   ranks (see ringThresholdFor): there the tree's fewer steps win.
 * - broadcast: a binomial tree; a typed array from `ringThreshold` up among 3 or more
 *   ranks goes down a pipelined chain in chunks instead, so every link carries it once.
 * - scatter / gather: the root sends (receives) each rank's part directly.
 * - allgather: Bruck's algorithm — ⌈log₂ p⌉ steps for any p, parts may differ in length.
 * - barrier: dissemination — ⌈log₂ p⌉ rounds of empty messages.
 *
 * Results are identical bit for bit on every rank: in the tree the root's result is
 * broadcast, in the ring each element is reduced by exactly one chain of ranks and
 * then copied everywhere. Results are each rank's own memory (the input is copied
 * once into the working buffer; received parts are copied into it or are fresh frames).
 */
import { arrayTypeFor, dtypeOf, isTypedArray, type TypedArray, type TypedArrayConstructor } from "../index.js";
import { ClusterError } from "./errors.js";
import { reducerFor, type ReduceOp, type Reducer } from "./reduce-ops.js";

/** From this many bytes, reductions use the ring and broadcasts of typed arrays the chain. */
export const RING_THRESHOLD_BYTES = 64 * 1024;
/** Below this many bytes allreduce uses recursive doubling (every rank sends the whole array log₂ p times). */
export const DOUBLING_MAX_BYTES = 64 * 1024;

/**
 * The default ring threshold of reductions for a group: RING_THRESHOLD_BYTES, except
 * when every rank runs on this host (`allLocal`) and there are more ranks than cores —
 * then Infinity (the tree). The ring's advantage is every link busy at once; ranks
 * sharing fewer cores take turns instead, and the ring's 2(p−1) dependent steps and its
 * all-at-once sends and receives cost more than the tree's 2⌈log₂ p⌉ steps (measured:
 * 4 processes on 2 cores, 8 MiB float64 over tcp, ring 235 ms vs tree 148 ms; see
 * docs/CLUSTER.md).
 */
export function ringThresholdFor(size: number, allLocal: boolean, cores: number): number {
  return allLocal && size > cores ? Infinity : RING_THRESHOLD_BYTES;
}
/** The chunk of a chained broadcast: small enough to pipeline, large enough to amortize a message. */
export const BROADCAST_CHUNK_BYTES = 512 * 1024;
/**
 * The largest ring message: an array whose p-th part is larger runs as several rings
 * at once (blocks), so no message exceeds this and a rank reduces one block while the
 * next is on the wire. Smaller pipelining pieces measured slower on one machine
 * (more messages, more interleaving, no spare core); see docs/CLUSTER.md.
 */
export const RING_SEGMENT_BYTES = 4 * 1024 * 1024;

export interface CommOptions {
  /** Bounds every wait of every operation (ms): a send, a recv, a step of a collective. */
  timeout?: number;
  /**
   * Overrides RING_THRESHOLD_BYTES (0: always the ring / chain; Infinity: never). By
   * default reductions use ringThresholdFor(): the tree for a group that shares one
   * host with fewer cores than ranks.
   */
  ringThreshold?: number;
  /** Overrides BROADCAST_CHUNK_BYTES. */
  chunkBytes?: number;
  /** Overrides RING_SEGMENT_BYTES. */
  segmentBytes?: number;
  /**
   * The allreduce below DOUBLING_MAX_BYTES (and below the ring threshold): "doubling"
   * (recursive doubling, the default: ⌈log₂ p⌉ rounds) or "tree" (binomial tree reduce
   * to rank 0 + tree broadcast: 2·⌈log₂ p⌉ hops, each rank sending the array at most
   * twice). Default: the mesh's choice — the tree over inproc, where every rank shares
   * one thread and what counts is the number of messages (2(p−1) against p·⌈log₂ p⌉),
   * not the length of the chain; doubling elsewhere.
   */
  smallAllreduce?: "doubling" | "tree";
}

/** What a wait needs to fail instead of hanging: its job, the engines it depends on, its timeout. */
export interface WaitScope {
  job?: string;
  peers: readonly number[];
  timeout?: number;
}

/** A send inside the mesh: `queued` when the socket took it, `done` when its buffers may be reused. */
export interface Sent {
  queued: Promise<void>;
  done: Promise<void>;
}

/** What a Comm needs from its Mesh (engine ids, not ranks; the mesh adds the job). */
export interface CommTransport {
  readonly self: number;
  post(to: number, tag: string, value: unknown, scope: WaitScope, what: string): Sent;
  take(from: number, tag: string, scope: WaitScope, what: string): Promise<unknown>;
  /** The reductions' ring threshold for a group when the comm's options do not set one. */
  defaultRingThreshold?(group: readonly number[]): number;
  /** The small allreduce when the comm's options do not say. */
  readonly defaultSmallAllreduce?: "doubling" | "tree";
}

type ArrayCtor = new (length: number) => TypedArray;

const describe = (v: unknown): string =>
  isTypedArray(v) ? `${dtypeOf(v).name}[${v.length}]` : v === null ? "null" : typeof v;

/** Copies `part` into `into` at `offset` (the TypedArray union has no common set()). */
function put(into: TypedArray, part: TypedArray, offset: number): void {
  (into as Uint8Array).set(part as Uint8Array, offset);
}

/**
 * Folds `other` into `work` as op(lower, higher): `otherIsLower` says which block comes
 * first. `other` is this rank's own received memory, so it may be written.
 */
function reduceInOrder(reduce: Reducer, work: TypedArray, other: TypedArray, otherIsLower: boolean): void {
  if (otherIsLower) {
    reduce(other, work);
    put(work, other, 0);
  } else {
    reduce(work, other);
  }
}

function concat(like: TypedArray, parts: readonly TypedArray[]): TypedArray {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new (like.constructor as ArrayCtor)(total);
  let at = 0;
  for (const p of parts) {
    put(out, p, at);
    at += p.length;
  }
  return out;
}

/** The messages of one collective call: tags `c<seq>:<step>`, sends whose buffers are awaited at the end. */
class Round {
  readonly #dones: Promise<void>[] = [];

  constructor(
    private readonly comm: Comm,
    private readonly t: CommTransport,
    private readonly prefix: string,
    private readonly scope: WaitScope,
    private readonly what: string,
  ) {}

  send(rank: number, step: string, value: unknown): Promise<void> {
    const sent = this.t.post(this.comm.group[rank]!, `${this.prefix}:${step}`, value, this.scope, `${this.what}: sending to rank ${rank}`);
    this.#dones.push(sent.done);
    return sent.queued;
  }

  recv(rank: number, step: string): Promise<unknown> {
    return this.t.take(this.comm.group[rank]!, `${this.prefix}:${step}`, this.scope, `${this.what}: waiting for rank ${rank} (engine ${this.comm.group[rank]!})`);
  }

  /** A received array, checked against what this rank expects. */
  async recvLike(rank: number, step: string, like: TypedArray, length = like.length): Promise<TypedArray> {
    const got = await this.recv(rank, step);
    if (!isTypedArray(got) || dtypeOf(got).name !== dtypeOf(like).name || got.length !== length) {
      throw new ClusterError("EINVAL", `${this.what}: rank ${rank} sent ${describe(got)} where rank ${this.comm.rank} expected ${dtypeOf(like).name}[${length}] (every rank must pass the same dtype and length)`);
    }
    return got;
  }

  async recvArray(rank: number, step: string): Promise<TypedArray> {
    const got = await this.recv(rank, step);
    if (!isTypedArray(got)) throw new ClusterError("EINVAL", `${this.what}: rank ${rank} sent ${describe(got)} where a typed array was expected`);
    return got;
  }

  /** Every buffer sent is out of our hands: the caller may now reuse (or be handed) the arrays sent. */
  async end(): Promise<void> {
    await Promise.all(this.#dones);
  }
}

export class Comm {
  readonly rank: number;
  readonly size: number;
  readonly group: readonly number[];
  readonly job: string;
  readonly #t: CommTransport;
  readonly #timeout: number | undefined;
  readonly #ringThreshold: number;
  /** The ring threshold of reduce / allreduce (ringThreshold when given, else the group's default). */
  readonly #reduceRingThreshold: number;
  readonly #chunkBytes: number;
  readonly #segmentBytes: number;
  readonly #smallAllreduce: "doubling" | "tree";
  readonly #peers: readonly number[];
  #seq = 0;

  constructor(transport: CommTransport, group: readonly number[], job: string, options: CommOptions = {}) {
    this.#t = transport;
    this.group = Object.freeze([...group]);
    this.rank = this.group.indexOf(transport.self);
    if (this.rank < 0) throw new ClusterError("EINVAL", `engine ${transport.self} is not in the group ${JSON.stringify(group)}`);
    this.size = this.group.length;
    this.job = job;
    this.#timeout = options.timeout;
    this.#ringThreshold = options.ringThreshold ?? RING_THRESHOLD_BYTES;
    this.#reduceRingThreshold = options.ringThreshold ?? transport.defaultRingThreshold?.(this.group) ?? RING_THRESHOLD_BYTES;
    this.#chunkBytes = Math.max(1, options.chunkBytes ?? BROADCAST_CHUNK_BYTES);
    this.#segmentBytes = Math.max(1, options.segmentBytes ?? RING_SEGMENT_BYTES);
    this.#smallAllreduce = (options.smallAllreduce ?? transport.defaultSmallAllreduce ?? "doubling") === "tree" ? "tree" : "doubling";
    this.#peers = this.group.filter((id) => id !== transport.self);
  }

  /** From how many bytes reduce / allreduce use the ring (Infinity: never). */
  get ringThreshold(): number {
    return this.#reduceRingThreshold;
  }

  #scope(): WaitScope {
    return { peers: this.#peers, timeout: this.#timeout };
  }

  #round(name: string): Round {
    const seq = ++this.#seq;
    return new Round(this, this.#t, `c${seq}`, this.#scope(), `${name} #${seq} of job ${this.job} (rank ${this.rank} of ${this.size})`);
  }

  #checkRank(rank: number, what: string): void {
    if (!Number.isInteger(rank) || rank < 0 || rank >= this.size) throw new ClusterError("EINVAL", `${what}: rank ${String(rank)} is not in 0..${this.size - 1}`);
  }

  // ---- point to point (in order per pair, apart from the collectives) -------------

  async send(rank: number, value: unknown): Promise<void> {
    this.#checkRank(rank, "send");
    const sent = this.#t.post(this.group[rank]!, "p", value, this.#scope(), `send to rank ${rank} in job ${this.job}`);
    await sent.queued;
    await sent.done;
  }

  recv(rank: number): Promise<unknown> {
    try {
      this.#checkRank(rank, "recv");
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#t.take(this.group[rank]!, "p", this.#scope(), `recv from rank ${rank} (engine ${this.group[rank]!}) in job ${this.job}`);
  }

  // ---- broadcast ------------------------------------------------------------------

  /** The root's value on every rank (the root gets its own value back; the others a copy). */
  async broadcast<T>(value: T | undefined, root = 0): Promise<T> {
    this.#checkRank(root, "broadcast");
    if (this.size === 1) return value as T;
    const round = this.#round("broadcast");
    if (this.rank === root) {
      const chained = isTypedArray(value) && this.size > 2 && value.byteLength >= this.#ringThreshold && value.length > 0;
      const header = chained ? { chain: { dtype: dtypeOf(value).name, length: value.length } } : { v: value };
      await this.#treeBroadcast(round, header, root);
      if (chained) await this.#chain(round, value, root);
      await round.end();
      return value as T;
    }
    const header = (await this.#treeBroadcast(round, undefined, root)) as { v?: unknown; chain?: { dtype: string; length: number } };
    let result: unknown = header?.v;
    const chain = header?.chain;
    if (chain) {
      let Ctor: TypedArrayConstructor;
      try {
        Ctor = arrayTypeFor(chain.dtype);
      } catch {
        throw new ClusterError("EPROTO", `broadcast: unknown dtype ${JSON.stringify(chain.dtype)} from the root`);
      }
      if (!Number.isInteger(chain.length) || chain.length < 0) throw new ClusterError("EPROTO", "broadcast: bad length from the root");
      result = await this.#chain(round, new Ctor(chain.length), root);
    }
    await round.end();
    return result as T;
  }

  /** Binomial tree from `root`: returns the value received (or the root's own). */
  async #treeBroadcast(round: Round, value: unknown, root: number, step = "b"): Promise<unknown> {
    const p = this.size;
    const rel = (this.rank - root + p) % p;
    const abs = (r: number): number => (r + root) % p;
    let mask = 1;
    while (mask < p) {
      if (rel & mask) {
        value = await round.recv(abs(rel - mask), step);
        break;
      }
      mask <<= 1;
    }
    const sends: Promise<void>[] = [];
    for (mask >>= 1; mask > 0; mask >>= 1) if (rel + mask < p) sends.push(round.send(abs(rel + mask), step, value));
    await Promise.all(sends);
    return value;
  }

  /** Pipelined chain root → root+1 → ...: chunk c is forwarded while chunk c+1 arrives. */
  async #chain(round: Round, into: TypedArray, root: number): Promise<TypedArray> {
    const p = this.size;
    const rel = (this.rank - root + p) % p;
    const prev = (this.rank - 1 + p) % p;
    const next = rel + 1 < p ? (this.rank + 1) % p : -1;
    const per = Math.max(1, Math.floor(this.#chunkBytes / into.BYTES_PER_ELEMENT));
    const sends: Promise<void>[] = [];
    for (let lo = 0, c = 0; lo < into.length; lo += per, c++) {
      const hi = Math.min(into.length, lo + per);
      const chunk = into.subarray(lo, hi);
      if (rel > 0) put(into, await round.recvLike(prev, `k${c}`, chunk), lo);
      if (next >= 0) sends.push(round.send(next, `k${c}`, chunk));
    }
    await Promise.all(sends);
    return into;
  }

  // ---- reductions -----------------------------------------------------------------

  /** The reduction of every rank's array, on every rank (a number or bigint in, the same out). */
  allreduce(array: number, op?: ReduceOp): Promise<number>;
  allreduce(array: bigint, op?: ReduceOp): Promise<bigint>;
  allreduce<A extends TypedArray>(array: A, op?: ReduceOp): Promise<A>;
  async allreduce(array: TypedArray | number | bigint, op: ReduceOp = "sum"): Promise<TypedArray | number | bigint> {
    if (typeof array === "number") return (await this.allreduce(new Float64Array([array]), op))[0]!;
    if (typeof array === "bigint") return (await this.allreduce(new BigInt64Array([array]), op))[0]!;
    const { work, reduce } = this.#prepare(array, op, "allreduce");
    if (this.size === 1) return work;
    const round = this.#round("allreduce");
    if (work.byteLength >= this.#reduceRingThreshold) {
      await Promise.all(this.#blocks(work).map(async (block, j) => {
        await this.#ringReduceScatter(round, block, reduce, j);
        await this.#ringAllgather(round, block, j);
      }));
    } else if (this.#smallAllreduce === "doubling" && work.byteLength < DOUBLING_MAX_BYTES) {
      await this.#recursiveDoubling(round, work, reduce);
    } else {
      await this.#treeReduce(round, work, reduce, 0);
      await this.#treeBroadcastInto(round, work, 0);
    }
    await round.end();
    return work;
  }

  /**
   * Small allreduce by recursive doubling (a butterfly): ⌈log₂ p⌉ rounds in which every
   * rank exchanges its partial result with the rank whose (folded) rank differs in one
   * bit, instead of a tree's 2·⌈log₂ p⌉ dependent hops. Both partners combine the same
   * two blocks in the same order — op(lower ranks' block, higher ranks' block) — so every
   * rank ends with the same bytes, and the result is the fold in rank order
   * r0 ⊕ r1 ⊕ … (which also makes an associative but non-commutative op well defined).
   * With p not a power of two, the first 2·(p − 2^k) ranks pair up first (the even one
   * hands its array to the odd one, which folds the pair) and get the result back at the
   * end: two more hops, for those ranks only.
   */
  async #recursiveDoubling(round: Round, work: TypedArray, reduce: Reducer): Promise<void> {
    const p = this.size, r = this.rank;
    let pof2 = 1;
    while (pof2 * 2 <= p) pof2 *= 2;
    const rem = p - pof2;
    // Fold in: ranks below 2·rem pair up; the even one sits the butterfly out.
    let vrank: number;
    if (r < 2 * rem) {
      if (r % 2 === 0) {
        await round.send(r + 1, "fi", work);
        put(work, await round.recvLike(r + 1, "fo", work), 0);
        return;
      }
      reduceInOrder(reduce, work, await round.recvLike(r - 1, "fi", work), true);
      vrank = r >> 1;
    } else {
      vrank = r - rem;
    }
    const real = (v: number): number => (v < rem ? 2 * v + 1 : v + rem);
    for (let mask = 1; mask < pof2; mask <<= 1) {
      const partner = real(vrank ^ mask);
      // Our block goes out as it is now; the send is a view of `work`, which is then
      // folded in place — so send a copy (small: this path is below DOUBLING_MAX_BYTES).
      const [, got] = await Promise.all([
        round.send(partner, `x${mask}`, work.slice()),
        round.recvLike(partner, `x${mask}`, work),
      ]);
      reduceInOrder(reduce, work, got, partner < r);
    }
    // Fold out: the odd rank of a pair gives the result to its even partner.
    if (r < 2 * rem) await round.send(r - 1, "fo", work);
  }

  /** The reduction at `root` (undefined elsewhere). */
  reduce(array: number, op?: ReduceOp, root?: number): Promise<number | undefined>;
  reduce(array: bigint, op?: ReduceOp, root?: number): Promise<bigint | undefined>;
  reduce<A extends TypedArray>(array: A, op?: ReduceOp, root?: number): Promise<A | undefined>;
  async reduce(array: TypedArray | number | bigint, op: ReduceOp = "sum", root = 0): Promise<TypedArray | number | bigint | undefined> {
    if (typeof array === "number") return (await this.reduce(new Float64Array([array]), op, root))?.[0];
    if (typeof array === "bigint") return (await this.reduce(new BigInt64Array([array]), op, root))?.[0];
    this.#checkRank(root, "reduce");
    const { work, reduce } = this.#prepare(array, op, "reduce");
    if (this.size === 1) return work;
    const round = this.#round("reduce");
    if (work.byteLength >= this.#reduceRingThreshold) {
      await Promise.all(this.#blocks(work).map(async (block, j) => {
        await this.#ringReduceScatter(round, block, reduce, j);
        await this.#gatherSegments(round, block, root, j);
      }));
    } else {
      await this.#treeReduce(round, work, reduce, root);
    }
    await round.end();
    return this.rank === root ? work : undefined;
  }

  #prepare(array: TypedArray, op: ReduceOp, what: string): { work: TypedArray; reduce: Reducer } {
    if (!isTypedArray(array)) throw new ClusterError("EINVAL", `${what}: expected a typed array, a number or a bigint, not ${describe(array)}`);
    // The working buffer: the caller's array is never written.
    return { work: array.slice(), reduce: reducerFor(op) };
  }

  /** Binomial tree: each rank folds in its children's partial results in a fixed order, then sends to its parent. */
  async #treeReduce(round: Round, work: TypedArray, reduce: Reducer, root: number): Promise<void> {
    const p = this.size;
    const rel = (this.rank - root + p) % p;
    const abs = (r: number): number => (r + root) % p;
    for (let mask = 1; mask < p; mask <<= 1) {
      if ((rel & mask) === 0) {
        const child = rel | mask;
        if (child < p) reduce(work, await round.recvLike(abs(child), "r", work));
      } else {
        await round.send(abs(rel & ~mask), "r", work);
        return;
      }
    }
  }

  /** Tree broadcast of an array into each rank's own `work`. */
  async #treeBroadcastInto(round: Round, work: TypedArray, root: number): Promise<void> {
    const p = this.size;
    const rel = (this.rank - root + p) % p;
    const abs = (r: number): number => (r + root) % p;
    let mask = 1;
    while (mask < p) {
      if (rel & mask) {
        put(work, await round.recvLike(abs(rel - mask), "b", work), 0);
        break;
      }
      mask <<= 1;
    }
    const sends: Promise<void>[] = [];
    for (mask >>= 1; mask > 0; mask >>= 1) if (rel + mask < p) sends.push(round.send(abs(rel + mask), "b", work));
    await Promise.all(sends);
  }

  /**
   * The ring's blocks: an array whose segments would exceed `segmentBytes` is cut into
   * blocks, and every block runs its own ring at the same time (each element is still
   * reduced along one chain), so messages stay bounded and a rank reduces one block
   * while the next is on the wire.
   */
  #blocks(work: TypedArray): TypedArray[] {
    const count = Math.max(1, Math.min(work.length, Math.ceil(work.byteLength / (this.size * this.#segmentBytes))));
    const blocks: TypedArray[] = [];
    for (let j = 0; j < count; j++) blocks.push(work.subarray(Math.floor((j * work.length) / count), Math.floor(((j + 1) * work.length) / count)));
    return blocks;
  }

  /** Segment k of an n-element array split p ways: [⌊kn/p⌋, ⌊(k+1)n/p⌋). */
  #bounds(n: number, k: number): [number, number] {
    const p = this.size;
    return [Math.floor((k * n) / p), Math.floor(((k + 1) * n) / p)];
  }

  #segment(work: TypedArray, k: number): TypedArray {
    const [lo, hi] = this.#bounds(work.length, ((k % this.size) + this.size) % this.size);
    return work.subarray(lo, hi);
  }

  /**
   * Ring reduce-scatter: at step s rank r sends segment r−s to r+1 and folds segment
   * r−s−1 from r−1 into its own. After p−1 steps rank r holds segment r+1 reduced
   * over all ranks (each element reduced along one chain, so one order, one result).
   */
  async #ringReduceScatter(round: Round, work: TypedArray, reduce: Reducer, block: number): Promise<void> {
    const p = this.size, r = this.rank;
    const right = (r + 1) % p, left = (r - 1 + p) % p;
    for (let s = 0; s < p - 1; s++) {
      const into = this.#segment(work, r - s - 1);
      const [, got] = await Promise.all([round.send(right, `${block}rs${s}`, this.#segment(work, r - s)), round.recvLike(left, `${block}rs${s}`, into)]);
      reduce(into, got);
    }
  }

  /** Ring allgather of the reduced segments: at step s rank r passes on segment r+1−s and receives segment r−s. */
  async #ringAllgather(round: Round, work: TypedArray, block: number): Promise<void> {
    const p = this.size, r = this.rank;
    const right = (r + 1) % p, left = (r - 1 + p) % p;
    for (let s = 0; s < p - 1; s++) {
      const into = this.#segment(work, r - s);
      const [, got] = await Promise.all([round.send(right, `${block}ag${s}`, this.#segment(work, r + 1 - s)), round.recvLike(left, `${block}ag${s}`, into)]);
      put(into, got, 0);
    }
  }

  /** After the reduce-scatter, each rank sends its reduced segment to the root. */
  async #gatherSegments(round: Round, work: TypedArray, root: number, block: number): Promise<void> {
    if (this.rank !== root) {
      await round.send(root, `${block}g`, this.#segment(work, this.rank + 1));
      return;
    }
    await Promise.all(
      this.group.map(async (_, q) => {
        if (q === root) return;
        const into = this.#segment(work, q + 1);
        put(into, await round.recvLike(q, `${block}g`, into), 0);
      }),
    );
  }

  // ---- scatter, gather, allgather ----------------------------------------------------

  /**
   * Splits the root's array along its first axis into `size` nearly equal parts
   * (rank k gets rows ⌊k·rows/p⌋ to ⌊(k+1)·rows/p⌋); `shape` says how many elements a
   * row has (default: one element per row). Each rank gets its part as its own array.
   */
  async scatter(array: TypedArray | undefined, root = 0, options: { shape?: readonly number[] } = {}): Promise<TypedArray> {
    this.#checkRank(root, "scatter");
    if (this.rank !== root) {
      const round = this.#round("scatter");
      const part = await round.recvArray(root, "s");
      await round.end();
      return part;
    }
    if (!isTypedArray(array)) throw new ClusterError("EINVAL", `scatter: the root must pass a typed array, not ${describe(array)}`);
    let rows = array.length, rowLength = 1;
    if (options.shape) {
      const [first, ...rest] = options.shape;
      rowLength = rest.reduce((a, b) => a * b, 1);
      rows = first ?? 0;
      if (rows * rowLength !== array.length) throw new ClusterError("EINVAL", `scatter: shape ${JSON.stringify(options.shape)} does not match ${array.length} elements`);
    }
    const part = (k: number): TypedArray => {
      const [lo, hi] = this.#bounds(rows, k);
      return array.subarray(lo * rowLength, hi * rowLength);
    };
    if (this.size === 1) return array.slice();
    const round = this.#round("scatter");
    const sends: Promise<void>[] = [];
    for (let k = 0; k < this.size; k++) if (k !== root) sends.push(round.send(k, "s", part(k)));
    await Promise.all(sends);
    await round.end();
    return part(root).slice();
  }

  /** Every rank's array concatenated in rank order, at the root (undefined elsewhere). Lengths may differ. */
  async gather(array: TypedArray, root = 0): Promise<TypedArray | undefined> {
    this.#checkRank(root, "gather");
    if (!isTypedArray(array)) throw new ClusterError("EINVAL", `gather: expected a typed array, not ${describe(array)}`);
    if (this.size === 1) return array.slice();
    const round = this.#round("gather");
    if (this.rank !== root) {
      await round.send(root, "g", array);
      await round.end();
      return undefined;
    }
    const parts = await Promise.all(this.group.map((_, q) => (q === root ? array : this.#recvSameDtype(round, q, "g", array))));
    await round.end();
    return concat(array, parts);
  }

  async #recvSameDtype(round: Round, rank: number, step: string, like: TypedArray): Promise<TypedArray> {
    const got = await round.recvArray(rank, step);
    if (dtypeOf(got).name !== dtypeOf(like).name) {
      throw new ClusterError("EINVAL", `${step === "g" ? "gather" : "allgather"}: rank ${rank} sent ${describe(got)}, rank ${this.rank} has ${describe(like)} (every rank must pass the same dtype)`);
    }
    return got;
  }

  /**
   * Every rank's array concatenated in rank order, on every rank (lengths may differ).
   * Bruck: at the step of distance d, rank r sends the parts it holds (its own and the
   * next ones, up to d) to r−d and receives as many from r+d.
   */
  async allgather(array: TypedArray): Promise<TypedArray> {
    if (!isTypedArray(array)) throw new ClusterError("EINVAL", `allgather: expected a typed array, not ${describe(array)}`);
    const p = this.size, r = this.rank;
    if (p === 1) return array.slice();
    const round = this.#round("allgather");
    const held: TypedArray[] = [array]; // held[i] is the part of rank r+i
    for (let d = 1; d < p; d *= 2) {
      const count = Math.min(d, p - d);
      const [, got] = await Promise.all([round.send((r - d + p) % p, `a${d}`, held.slice(0, count)), round.recv((r + d) % p, `a${d}`)]);
      if (!Array.isArray(got) || got.length !== count) throw new ClusterError("EINVAL", `allgather: rank ${(r + d) % p} sent ${describe(got)} where ${count} parts were expected`);
      for (const part of got) {
        if (!isTypedArray(part) || dtypeOf(part).name !== dtypeOf(array).name) {
          throw new ClusterError("EINVAL", `allgather: a part from rank ${(r + d) % p} is ${describe(part)}, rank ${r} has ${describe(array)} (every rank must pass the same dtype)`);
        }
        held.push(part);
      }
    }
    await round.end();
    const inOrder: TypedArray[] = [];
    for (let q = 0; q < p; q++) inOrder.push(held[(q - r + p) % p]!);
    return concat(array, inOrder);
  }

  // ---- barrier ---------------------------------------------------------------------

  /** Resolves once every rank has entered the barrier (dissemination: ⌈log₂ p⌉ rounds). */
  async barrier(): Promise<void> {
    const p = this.size, r = this.rank;
    if (p === 1) return;
    const round = this.#round("barrier");
    for (let d = 1; d < p; d *= 2) {
      await Promise.all([round.send((r + d) % p, `d${d}`, null), round.recv((r - d + p) % p, `d${d}`)]);
    }
    await round.end();
  }
}
