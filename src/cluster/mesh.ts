/**
 * The mesh: engines talking to each other directly, without the controller.
 *
 * Every engine binds one ROUTER (its peer endpoint, advertised at registration) and
 * sends through one DEALER per peer, connected on first use, whose routing id is the
 * engine's uuid. The ROUTER only receives: a message's sender is named twice, by the
 * routing id the ROUTER prepends and by `from` in the signed content, and the two must
 * agree when the sender is in our table. Nothing is ever sent back on the ROUTER, so
 * neither side needs a reply path.
 *
 *   engine 0: DEALER(id=uuid0) ──▶ ROUTER of engine 1
 *   engine 1: DEALER(id=uuid1) ──▶ ROUTER of engine 0
 *
 * Every message is a signed Session message: "peer_message" `{from, tag, job?, value}`
 * (the value encoded by codec.ts, its typed arrays as out-of-band frames) or
 * "abort_job" `{from, job, error}`. A message with a bad signature, a malformed body,
 * or a sender that contradicts our table is dropped, counted in `dropped` and logged.
 *
 * Received values wait in a mailbox keyed by (sender, job, tag) until a recv asks for
 * them. Every wait can fail instead of hanging: ETIMEDOUT (its timeout), EENGINEDIED
 * (removePeer of an engine it needs), EABORTED (abortJob of its job, here or on a
 * peer), ECLOSED (close()).
 */
import { curveClientOptions, curveServerOptions, type CurveKeys } from "./connection.js";
import type { Context, Dealer as DealerType, MessageTracker } from "../index.js";
import { Dealer, Router } from "../index.js";
import { decodeValue, encodeValue } from "./codec.js";
import { cpus } from "node:os";
import { Comm, ringThresholdFor, type CommOptions, type CommTransport, type Sent, type WaitScope } from "./comm.js";
import { ClusterError } from "./errors.js";
import { Mailbox, mailboxKey, type Waiter } from "./mesh-mailbox.js";
import type { Message, Session } from "./session.js";

export { Comm, RING_THRESHOLD_BYTES, BROADCAST_CHUNK_BYTES, RING_SEGMENT_BYTES, DOUBLING_MAX_BYTES, ringThresholdFor } from "./comm.js";
export type { CommOptions } from "./comm.js";
export type { ReduceOp } from "./reduce-ops.js";

export interface PeerInfo {
  id: number;
  uuid: string;
  peer_endpoint: string;
  /** The peer endpoint's CURVE public key (Z85), in a CURVE cluster. */
  curve_key?: string;
}

export interface MeshOptions {
  session: Session;
  uuid: string;
  /** Where to bind: "tcp://127.0.0.1:*", "ipc:///path/peer-<uuid>.sock", "inproc://...". */
  endpoint: string;
  context?: Context;
  logger?: (msg: string) => void;
  /**
   * This engine's CURVE key pair, in a CURVE cluster: the peer ROUTER is a CURVE server
   * with it, and each DEALER connects with it to the peer's advertised `curve_key`.
   */
  curve?: CurveKeys;
  /**
   * How long a send waits for an engine id it has not heard of yet (ms, default 10 s):
   * a task may start before this engine has received the notification that a peer
   * in its group joined. After that the send fails with EINVAL.
   */
  unknownPeerTimeout?: number;
}

/** Messages a DEALER holds for a peer before send() waits (collectives keep few in flight; users may burst). */
export const MESH_SEND_HWM = 10_000;
/** Messages the ROUTER holds before TCP pushes back; the receive loop drains it into the mailbox at once. */
export const MESH_RECEIVE_HWM = 10_000;
/**
 * Values whose typed arrays total at most this many bytes are copied at send (and the
 * send is not tracked); larger ones over tcp / ipc are sent by reference and `done`
 * waits until the kernel has them.
 */
export const MESH_COPY_BELOW = 4 * 1024;
/** How long close() lets the DEALERs flush what they still hold (ms). */
export const MESH_CLOSE_LINGER = 200;
/** How many finished / aborted job ids are remembered, to drop their late messages. */
const REMEMBERED_JOBS = 4096;

interface Link {
  info: PeerInfo;
  dealer: DealerType | null;
  /** Over inproc a frame is handed over by reference: we copy at send so the receiver owns what it gets. */
  inproc: boolean;
}

interface Guard {
  job: string | undefined;
  peers: readonly number[];
  what: string;
  fail(err: ClusterError): void;
}

const noop = (): void => {};

function peerLeft(id: number, reason: string, what: string): ClusterError {
  return new ClusterError("EENGINEDIED", `engine ${id} left the cluster (${reason}): ${what}`, { engineId: id });
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/** The host of "tcp://host:port" (null for anything else). */
function tcpHost(endpoint: string): string | null {
  if (!endpoint.startsWith("tcp://")) return null;
  const rest = endpoint.slice(6);
  const colon = rest.lastIndexOf(":");
  return colon < 0 ? rest : rest.slice(0, colon);
}

/** The host's cores (all of them, not this process's affinity: every rank on the host must count the same). */
function hostCores(): number {
  try {
    return Math.max(1, cpus().length);
  } catch {
    return 1;
  }
}

function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > REMEMBERED_JOBS) map.delete(map.keys().next().value as K);
}

function describeError(e: unknown): { name: string; message: string } {
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: "Error", message: String(e) };
}

export class Mesh {
  /** The resolved endpoint to advertise at registration. */
  readonly endpoint: string;
  readonly uuid: string;
  /** This engine's id; -1 until setSelf(). */
  id = -1;
  /** Messages dropped: bad signature, malformed, a sender contradicting our table, or from a removed peer. */
  dropped = 0;
  /** Messages of a finished or aborted job that arrived afterwards (dropped quietly). */
  late = 0;

  readonly #session: Session;
  readonly #curve: CurveKeys | null;
  readonly #context: Context | undefined;
  readonly #log: (msg: string) => void;
  readonly #router: Router;
  readonly #unknownPeerTimeout: number;
  readonly #links = new Map<number, Link>();
  /** Engines that left, with the reason: their waits fail, their late messages are dropped. */
  readonly #removed = new Map<number, string>();
  readonly #mailbox = new Mailbox();
  readonly #guards = new Set<Guard>();
  readonly #joinWaiters = new Map<number, Set<() => void>>();
  readonly #aborted = new Map<string, ClusterError>();
  readonly #finished = new Map<string, true>();
  readonly #comms = new Map<string, Comm>();
  #closed = false;
  /** Over inproc a frame is handed over by reference: values are copied at send so the receiver owns what it gets. */
  readonly #inproc: boolean;
  readonly #loop: Promise<void>;

  private constructor(options: MeshOptions, router: Router, endpoint: string) {
    this.#curve = options.curve ?? null;
    this.#session = options.session;
    this.uuid = options.uuid;
    this.#context = options.context;
    this.#log = options.logger ?? ((msg) => console.warn(`zmq-ts mesh: ${msg}`));
    this.#router = router;
    this.endpoint = endpoint;
    this.#inproc = endpoint.startsWith("inproc://");
    this.#unknownPeerTimeout = options.unknownPeerTimeout ?? 10_000;
    this.#loop = this.#receiveLoop();
  }

  /** Binds the peer ROUTER and starts receiving. */
  static async bind(options: MeshOptions): Promise<Mesh> {
    if (!options.uuid || Buffer.byteLength(options.uuid) > 255) throw new ClusterError("EINVAL", "a mesh needs a uuid of 1 to 255 bytes (it is the DEALERs' routing id)");
    const router = new Router({
      ...(options.context ? { context: options.context } : {}),
      ...curveServerOptions(options.curve ?? null),
      linger: 0,
      receiveHighWaterMark: MESH_RECEIVE_HWM,
    });
    try {
      await router.bind(options.endpoint);
    } catch (e) {
      router.close();
      throw e;
    }
    return new Mesh(options, router, router.lastEndpoint ?? options.endpoint);
  }

  // ---- the peer table --------------------------------------------------------

  setSelf(id: number): void {
    if (!Number.isInteger(id) || id < 0) throw new ClusterError("EINVAL", `engine id must be a non-negative integer, not ${String(id)}`);
    this.id = id;
    this.#dropLink(id);
  }

  /** The table from registration_reply (an entry for this engine is ignored). */
  setPeers(peers: readonly PeerInfo[]): void {
    for (const p of peers) this.addPeer(p);
  }

  /** registration_notification. */
  addPeer(peer: PeerInfo): void {
    if (!Number.isInteger(peer.id) || peer.id < 0 || typeof peer.uuid !== "string" || typeof peer.peer_endpoint !== "string") {
      this.#log(`ignored a malformed peer entry ${JSON.stringify(peer)}`);
      return;
    }
    if (peer.id === this.id || peer.uuid === this.uuid) return;
    const old = this.#links.get(peer.id);
    if (old && old.info.uuid === peer.uuid && old.info.peer_endpoint === peer.peer_endpoint && old.info.curve_key === peer.curve_key) return;
    if (old) this.#dropLink(peer.id);
    this.#removed.delete(peer.id);
    const info: PeerInfo = { id: peer.id, uuid: peer.uuid, peer_endpoint: peer.peer_endpoint, ...(typeof peer.curve_key === "string" ? { curve_key: peer.curve_key } : {}) };
    this.#links.set(peer.id, { info, dealer: null, inproc: peer.peer_endpoint.startsWith("inproc://") });
    const waiters = this.#joinWaiters.get(peer.id);
    if (waiters) {
      this.#joinWaiters.delete(peer.id);
      for (const wake of waiters) wake();
    }
  }

  /**
   * unregistration_notification: closes the peer's DEALER (dropping what it still
   * held) and fails every wait that needs it with EENGINEDIED naming the engine.
   */
  removePeer(id: number, reason: string): void {
    if (id === this.id) return;
    this.#dropLink(id);
    this.#removed.set(id, reason);
    for (const g of [...this.#guards]) if (g.peers.includes(id)) g.fail(peerLeft(id, reason, g.what));
  }

  /**
   * Whether every engine that can reach this one runs on this host: our peer endpoint is
   * inproc, ipc or tcp on loopback. Judged from our own endpoint only, not the peer table
   * (which may be incomplete when a comm is made), so that every rank of a group decides
   * the same: all of a cluster's engines use one transport, and none elsewhere could
   * reach a loopback or ipc endpoint. (Engines on one host bound on different interfaces,
   * one of them loopback, would disagree: give such a cluster's comms a ringThreshold.)
   */
  #hostOnly(): boolean {
    const ep = this.endpoint;
    if (ep.startsWith("inproc://") || ep.startsWith("ipc://")) return true;
    const host = tcpHost(ep);
    return host !== null && LOOPBACK.has(host);
  }

  /** Whether engine `id` is in the peer table (this engine itself is not). */
  hasPeer(id: number): boolean {
    return this.#links.has(id);
  }

  /** The other engines this one knows. */
  peers(): PeerInfo[] {
    return [...this.#links.values()].map((l) => ({ ...l.info })).sort((a, b) => a.id - b.id);
  }

  #dropLink(id: number): void {
    const link = this.#links.get(id);
    if (!link) return;
    this.#links.delete(id);
    if (link.dealer) {
      link.dealer.linger = 0;
      link.dealer.close();
    }
  }

  #dealer(link: Link): DealerType {
    if (!link.dealer) {
      // immediate stays false: the pipe exists from connect() on, so messages sent
      // before the connection completes (or while it redials) wait in it.
      if (this.#curve && link.info.curve_key === undefined) {
        this.#log(`engine ${link.info.id} advertised no CURVE key; its handshake will fail`);
      }
      const d = new Dealer({
        ...(this.#context ? { context: this.#context } : {}),
        ...curveClientOptions(link.info.curve_key, this.#curve),
        routingId: this.uuid,
        sendHighWaterMark: MESH_SEND_HWM,
        linger: MESH_CLOSE_LINGER,
      });
      d.connect(link.info.peer_endpoint);
      link.dealer = d;
    }
    return link.dealer;
  }

  // ---- point to point ----------------------------------------------------------

  /**
   * Sends `value` to engine `to`. Resolves when its buffers may be reused (handed to
   * the kernel over tcp/ipc, copied over inproc) — not when the peer has received it.
   */
  async send(to: number, value: unknown, options: { tag?: string; timeout?: number } = {}): Promise<void> {
    const tag = options.tag ?? "";
    const sent = this.#post(to, undefined, tag, value, { peers: [to], timeout: options.timeout }, `send to engine ${to}${tag ? ` (tag ${JSON.stringify(tag)})` : ""}`);
    await sent.queued;
    await sent.done;
  }

  /** The next value engine `from` sent with this tag (sent before or after this call). */
  recv(from: number, options: { tag?: string; timeout?: number } = {}): Promise<unknown> {
    const tag = options.tag ?? "";
    return this.#take(from, undefined, tag, { peers: [from], timeout: options.timeout }, `recv from engine ${from}${tag ? ` (tag ${JSON.stringify(tag)})` : ""}`);
  }

  // ---- collectives and jobs ----------------------------------------------------

  /**
   * The collectives of `job` among `group` (engine ids; this engine must be one).
   * One Comm per job: asking again returns the same one, so its collectives stay
   * numbered in order.
   */
  comm(group: readonly number[], job: string, options: CommOptions = {}): Comm {
    if (this.id < 0) throw new ClusterError("EINVAL", "the mesh has no engine id yet (setSelf)");
    if (typeof job !== "string" || job === "") throw new ClusterError("EINVAL", "a comm needs a job id");
    const sorted = [...group].sort((a, b) => a - b);
    if (sorted.some((g, i) => !Number.isInteger(g) || g < 0 || (i > 0 && g === sorted[i - 1]))) {
      throw new ClusterError("EINVAL", `a group is distinct non-negative engine ids, not ${JSON.stringify(group)}`);
    }
    if (!sorted.includes(this.id)) throw new ClusterError("EINVAL", `engine ${this.id} is not in the group ${JSON.stringify(sorted)} of job ${job}`);
    const existing = this.#comms.get(job);
    if (existing) {
      if (existing.group.join() !== sorted.join()) throw new ClusterError("EINVAL", `job ${job} already has the group ${JSON.stringify(existing.group)}`);
      return existing;
    }
    const transport: CommTransport = {
      self: this.id,
      post: (to, tag, value, scope, what) => this.#post(to, job, tag, value, scope, what),
      take: (from, tag, scope, what) => this.#take(from, job, tag, scope, what),
      defaultRingThreshold: (members) => ringThresholdFor(members.length, this.#hostOnly(), hostCores()),
      // Over inproc every rank runs in this one thread: fewer messages beat a shorter chain.
      defaultSmallAllreduce: this.#inproc ? "tree" : "doubling",
    };
    const comm = new Comm(transport, sorted, job, options);
    this.#comms.set(job, comm);
    return comm;
  }

  /**
   * This engine's task in `job` failed: every wait of the job here fails with EABORTED,
   * and the other members (the job's group, else `group`, else every known peer) are
   * told, so theirs fail too instead of waiting for a rank that will never answer.
   */
  abortJob(job: string, error: Error, group?: readonly number[]): void {
    if (this.#closed) return;
    const reason = describeError(error);
    this.#abortHere(job, new ClusterError("EABORTED", `job ${job} aborted: engine ${this.id} failed: ${reason.message}`, { engineId: this.id }));
    const members = this.#comms.get(job)?.group ?? group ?? [...this.#links.keys()];
    for (const to of members) {
      if (to === this.id || this.#removed.has(to)) continue;
      const link = this.#links.get(to);
      if (!link) continue;
      const { frames } = this.#session.build("abort_job", { from: this.id, job, error: reason });
      this.#dealer(link).send(frames).catch((e: unknown) => this.#log(`could not tell engine ${to} that job ${job} aborted: ${describeError(e).message}`));
    }
  }

  /** The job's task ended here: its comm, kept messages and waits go; later messages for it are dropped. */
  finishJob(job: string): void {
    this.#comms.delete(job);
    this.#aborted.delete(job);
    remember(this.#finished, job, true);
    // (An error is made only for a wait that needs one: every task ends here.)
    if (this.#guards.size > 0) {
      for (const g of [...this.#guards]) if (g.job === job) g.fail(new ClusterError("ECLOSED", `job ${job} ended on engine ${this.id} while waiting: ${g.what}`));
    }
    this.#mailbox.dropJob(job);
  }

  #abortHere(job: string, err: ClusterError): void {
    if (this.#finished.has(job) || this.#aborted.has(job)) return; // the first failure is the one reported
    remember(this.#aborted, job, err);
    for (const g of [...this.#guards]) if (g.job === job) g.fail(err);
    this.#mailbox.dropJob(job);
  }

  /** Stops receiving, fails every wait with ECLOSED, closes every socket (DEALERs flush for up to MESH_CLOSE_LINGER ms). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const g of [...this.#guards]) g.fail(new ClusterError("ECLOSED", `the mesh was closed: ${g.what}`));
    this.#joinWaiters.clear();
    this.#router.close();
    for (const link of this.#links.values()) link.dealer?.close();
    this.#links.clear();
    this.#mailbox.clear();
    this.#comms.clear();
    await this.#loop;
  }

  /** How many received values wait for a recv (diagnostics, tests). */
  get pending(): number {
    return this.#mailbox.size;
  }

  // ---- waiting -------------------------------------------------------------------

  /** Why a wait in this scope cannot succeed, if it cannot. */
  #blocked(scope: WaitScope, what: string): ClusterError | undefined {
    if (this.#closed) return new ClusterError("ECLOSED", `the mesh is closed: ${what}`);
    if (scope.job !== undefined) {
      const aborted = this.#aborted.get(scope.job);
      if (aborted) return aborted;
      if (this.#finished.has(scope.job)) return new ClusterError("ECLOSED", `job ${scope.job} ended on engine ${this.id}: ${what}`);
    }
    for (const id of scope.peers) {
      const reason = this.#removed.get(id);
      if (reason !== undefined) return peerLeft(id, reason, what);
    }
    return undefined;
  }

  /**
   * A wait that fails instead of hanging: `start` begins it and returns how to cancel
   * it; the wait is failed by its timeout, by the loss of a peer in `scope.peers`, by
   * an abort of `scope.job`, or by close().
   */
  #wait<T>(
    scope: WaitScope,
    what: string,
    start: (resolve: (value: T) => void, reject: (err: unknown) => void) => (() => void) | void,
    onTimeout: (ms: number) => ClusterError = (ms) => new ClusterError("ETIMEDOUT", `${what}: nothing within ${ms} ms`),
  ): Promise<T> {
    const blocked = this.#blocked(scope, what);
    if (blocked) return Promise.reject(blocked);
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      let cancel: (() => void) | void;
      const guard: Guard = {
        job: scope.job,
        peers: scope.peers,
        what,
        fail: (err) => {
          if (settled) return;
          finish();
          cancel?.();
          reject(err);
        },
      };
      const finish = (): void => {
        settled = true;
        this.#guards.delete(guard);
        if (timer) clearTimeout(timer);
      };
      this.#guards.add(guard);
      const ms = scope.timeout;
      if (ms !== undefined && Number.isFinite(ms)) timer = setTimeout(() => guard.fail(onTimeout(ms)), Math.max(0, Math.min(ms, 2 ** 31 - 1)));
      cancel = start(
        (value) => {
          if (settled) return;
          finish();
          resolve(value);
        },
        (err) => {
          if (settled) return;
          finish();
          reject(err);
        },
      );
      if (settled) cancel?.();
    });
  }

  #take(from: number, job: string | undefined, tag: string, scope: WaitScope, what: string): Promise<unknown> {
    const key = mailboxKey(from, job, tag);
    // A value that arrived is delivered even if its sender has left since (an aborted
    // or finished job's values were dropped already).
    const kept = this.#closed ? { found: false } : this.#mailbox.take(key);
    if (kept.found) return Promise.resolve(kept.value);
    return this.#wait({ ...scope, job }, what, (resolve) => {
      const waiter: Waiter = { deliver: resolve };
      this.#mailbox.wait(key, job, waiter);
      return () => this.#mailbox.cancel(key, waiter);
    });
  }

  /** An existing promise, failed by the same things as any wait in `scope`. */
  #guarded<T>(p: Promise<T>, scope: WaitScope, what: string): Promise<T> {
    p.catch(noop); // the wait may fail first (or at once), leaving p unobserved
    return this.#wait<T>(scope, what, (resolve, reject) => {
      p.then(resolve, reject);
    });
  }

  // ---- sending -------------------------------------------------------------------

  #post(to: number, job: string | undefined, tag: string, value: unknown, scope: WaitScope, what: string): Sent {
    scope = { peers: scope.peers, timeout: scope.timeout, job };
    let frames: Buffer[];
    let buffers: Buffer[] = [];
    let tracked = false;
    let copied = false;
    try {
      if (this.id < 0) throw new ClusterError("EINVAL", `the mesh has no engine id yet (setSelf): ${what}`);
      const blocked = this.#blocked(scope, what);
      if (blocked) throw blocked;
      const json = encodeValue(value, buffers);
      if (to === this.id) {
        // To itself: no socket, but a copy, so the receiver owns what it gets as it would from a peer.
        this.#mailbox.put(mailboxKey(to, job, tag), job, decodeValue(json, buffers.map((b) => Buffer.from(b))));
        return { queued: Promise.resolve(), done: Promise.resolve() };
      }
      if (buffers.length > 0) {
        let bytes = 0;
        for (const b of buffers) bytes += b.length;
        // The caller may reuse its arrays once `done`. Over inproc the receiver would get
        // our memory: copy now. Small values are copied too (cheaper than tracking when
        // the kernel has taken them); large ones over tcp / ipc go by reference, tracked.
        if (this.#inproc || bytes <= MESH_COPY_BELOW) {
          buffers = buffers.map((b) => Buffer.from(b));
          copied = true;
        } else tracked = true;
      }
      frames = this.#session.build("peer_message", { from: this.id, tag, ...(job !== undefined ? { job } : {}), value: json }, { buffers }).frames;
    } catch (e) {
      const failed = Promise.reject(e);
      failed.catch(noop);
      return { queued: failed, done: failed };
    }
    const send = (link: Link): Promise<void | MessageTracker> => {
      const dealer = this.#dealer(link);
      if (link.inproc && !copied && buffers.length > 0) return dealer.send(frames, { copy: true }); // (a tcp mesh sending to an inproc peer)
      return tracked ? dealer.send(frames, { track: true }) : dealer.send(frames);
    };
    const link = this.#links.get(to);
    const sending = link ? send(link) : this.#linkFor(to, scope, what).then(send);
    sending.catch(noop); // failures reach the caller through `queued`
    const queued = this.#wait<void>(scope, what, (resolve, reject) => {
      sending.then(() => resolve(), (e: unknown) => reject(this.#sendFailure(to, e, what)));
    });
    const done = tracked
      ? this.#guarded(sending.then((t) => (t ? t.done : undefined)), scope, what)
      : queued;
    queued.catch(noop);
    done.catch(noop);
    return { queued, done };
  }

  /** A DEALER closed under a send (removePeer, close) reports EAGAIN; say what happened instead. */
  #sendFailure(to: number, e: unknown, what: string): unknown {
    if (e instanceof ClusterError) return e;
    const reason = this.#removed.get(to);
    if (reason !== undefined) return peerLeft(to, reason, what);
    if (this.#closed) return new ClusterError("ECLOSED", `the mesh was closed: ${what}`);
    return e;
  }

  /** The peer's link; for an id not heard of yet, waits (bounded) for its registration_notification. */
  async #linkFor(to: number, scope: WaitScope, what: string): Promise<Link> {
    const link = this.#links.get(to);
    if (link) return link;
    const reason = this.#removed.get(to);
    if (reason !== undefined) throw peerLeft(to, reason, what);
    if (!Number.isInteger(to) || to < 0) throw new ClusterError("EINVAL", `${what}: ${String(to)} is not an engine id`);
    const timeout = Math.min(scope.timeout ?? Infinity, this.#unknownPeerTimeout);
    await this.#wait<void>(
      { ...scope, peers: [to], timeout },
      `${what} (engine ${to} not yet in the peer table)`,
      (resolve) => {
        let waiters = this.#joinWaiters.get(to);
        if (!waiters) this.#joinWaiters.set(to, (waiters = new Set()));
        const wake = (): void => resolve();
        waiters.add(wake);
        return () => this.#joinWaiters.get(to)?.delete(wake);
      },
      (ms) => new ClusterError("EINVAL", `${what}: engine ${to} is not in the peer table (waited ${ms} ms for it to join)`, { engineId: to }),
    );
    const joined = this.#links.get(to);
    if (!joined) throw new ClusterError("EINVAL", `${what}: engine ${to} is not in the peer table`, { engineId: to });
    return joined;
  }

  // ---- receiving -----------------------------------------------------------------

  async #receiveLoop(): Promise<void> {
    while (!this.#closed) {
      let frames: Buffer[];
      try {
        frames = await this.#router.receive();
      } catch (e) {
        if (this.#closed) return;
        this.#log(`receive failed: ${describeError(e).message}`);
        await new Promise((r) => setImmediate(r));
        continue;
      }
      try {
        this.#deliver(frames);
      } catch (e) {
        this.#drop(frames[0], describeError(e).message);
      }
    }
  }

  #drop(sender: Buffer | undefined, why: string): void {
    this.dropped++;
    this.#log(`dropped a message from ${sender ? JSON.stringify(sender.toString("utf8")) : "?"}: ${why}`);
  }

  #deliver(frames: Buffer[]): void {
    let msg: Message;
    try {
      msg = this.#session.deserialize(frames);
    } catch (e) {
      this.#drop(frames[0], describeError(e).message);
      return;
    }
    const sender = msg.identities[0];
    switch (msg.header.msg_type) {
      case "peer_message":
        return this.#onPeerMessage(msg, sender);
      case "abort_job":
        return this.#onAbortJob(msg, sender);
      default:
        this.#drop(sender, `unexpected msg_type ${JSON.stringify(msg.header.msg_type)} on the mesh`);
    }
  }

  /** The claimed sender, if the routing id agrees with our table (or the sender is not in it yet). */
  #checkSender(from: unknown, sender: Buffer | undefined): number | undefined {
    if (typeof from !== "number" || !Number.isInteger(from) || from < 0) {
      this.#drop(sender, "malformed mesh message: no sender id");
      return undefined;
    }
    const link = this.#links.get(from);
    if (link && (!sender || sender.toString("utf8") !== link.info.uuid)) {
      this.#drop(sender, `claims to be engine ${from}, whose uuid is ${link.info.uuid}`);
      return undefined;
    }
    if (this.#removed.has(from)) {
      this.#drop(sender, `engine ${from} left the cluster (${this.#removed.get(from)!})`);
      return undefined;
    }
    return from;
  }

  #onPeerMessage(msg: Message, sender: Buffer | undefined): void {
    const { from, tag, job } = msg.content;
    if (typeof tag !== "string" || (job !== undefined && typeof job !== "string") || !("value" in msg.content)) {
      this.#drop(sender, "malformed peer_message: needs {from, tag, value}");
      return;
    }
    const id = this.#checkSender(from, sender);
    if (id === undefined) return;
    if (job !== undefined && (this.#finished.has(job) || this.#aborted.has(job))) {
      this.late++;
      return;
    }
    let value: unknown;
    try {
      value = decodeValue(msg.content.value, msg.buffers);
    } catch (e) {
      this.#drop(sender, describeError(e).message);
      return;
    }
    this.#mailbox.put(mailboxKey(id, job, tag), job, value);
  }

  #onAbortJob(msg: Message, sender: Buffer | undefined): void {
    const { from, job, error } = msg.content;
    const message = error !== null && typeof error === "object" ? (error as { message?: unknown }).message : undefined;
    if (typeof job !== "string" || typeof message !== "string") {
      this.#drop(sender, "malformed abort_job: needs {from, job, error: {message}}");
      return;
    }
    const id = this.#checkSender(from, sender);
    if (id === undefined) return;
    this.#abortHere(job, new ClusterError("EABORTED", `job ${job} aborted: engine ${id} failed: ${message}`, { engineId: id }));
  }
}
