/**
 * The ZAP (RFC 27) side of a server mechanism, shared by NULL (with a ZAP domain),
 * PLAIN and CURVE: it runs the asynchronous request and keeps the outcome.
 */
import { WireError } from "../wire/errors.js";
import { encodeError } from "../wire/commands.js";

// ---------------------------------------------------------------------------
// ZAP (RFC 27), shared by PlainServerMechanism and CurveServerMechanism.

/**
 * What a server mechanism asks its ZAP handler. The engine's closure adds what only
 * it knows (domain, peer address, routing id, request id) when it builds the RFC 27
 * request. credentials: PLAIN [username, password]; CURVE [client long-term public key, 32 bytes].
 */
export interface ZapRequest {
  mechanism: "NULL" | "PLAIN" | "CURVE";
  credentials: Buffer[];
}

/** A ZAP reply: status "200" | "300" | "400" | "500", as the handler sent them. */
export interface ZapReply {
  status: string;
  statusText: string;
  userId: string;
  metadata: Map<string, Buffer>;
}

/** Resolves to the handler's reply, or null when there is no ZAP handler (accept, as libzmq does without ZAP_ENFORCE_DOMAIN). */
export type ZapHandler = (request: ZapRequest) => Promise<ZapReply | null>;

/**
 * ZAP bookkeeping for a server mechanism: runs the (asynchronous) request, keeps the
 * outcome, and tells the engine through onReady when the handshake can move on.
 */
export abstract class ZapServerBase {
  /**
   * Set by the engine: called once, from a promise callback, when the ZAP answer has
   * changed nextCommand()/status. It must not throw (there is no caller to catch it).
   */
  onReady: (() => void) | undefined = undefined;
  /** 300, 400 or 500 when ZAP refused the peer (the engine emits handshake:error:auth with it). */
  zapStatus: number | null = null;
  /** The refusing reply's status text. */
  zapStatusText: string | null = null;
  /** The User-Id from the ZAP reply (null when no ZAP handler answered). */
  userId: string | null = null;
  /** The ZAP reply's metadata (merged into peerMetadata). */
  zapMetadata = new Map<string, Buffer>();
  /** A protocol fault found asynchronously (malformed ZAP reply, handler threw): status is "error". */
  failure: WireError | null = null;
  /** The peer's ERROR reason, if it sent one (servers treat it as unexpected, as libzmq does). */
  peerError: string | null = null;

  protected zapPending = false;
  /** ERROR frame to send after a 400/500 refusal (none for 300: silent disconnect, per RFC 26/libzmq). */
  protected errorFrame: Buffer | null = null;
  private zapDone = false;
  private closed = false;

  constructor(private readonly zap: ZapHandler | undefined) {}

  /** How a 400/500 refusal is put into an ERROR command (PLAIN overrides it for libzmq's form). */
  protected encodeRefusal(status: string): Buffer {
    return encodeError(status);
  }

  /** True while a ZAP request is outstanding (nextCommand() returns null meanwhile). */
  get waitingForZap(): boolean {
    return this.zapPending;
  }

  /** Ignore a ZAP answer that arrives after the connection is gone. */
  close(): void {
    this.closed = true;
    this.onReady = undefined;
  }

  protected get refused(): boolean {
    return this.zapStatus !== null || this.failure !== null;
  }

  /** Asks ZAP; `accept` runs (synchronously when there is no handler) if the answer is 200 or there is no handler. */
  protected authenticate(request: ZapRequest, accept: () => void): void {
    if (!this.zap) {
      accept();
      return;
    }
    this.zapPending = true;
    let answer: Promise<ZapReply | null>;
    try {
      answer = Promise.resolve(this.zap(request));
    } catch (e) {
      answer = Promise.reject(e);
    }
    answer.then(
      (reply) => this.zapAnswered(reply, accept),
      (e: unknown) =>
        this.zapAnswered(
          // A malformed reply keeps its ERR_ZAP_* reason (bad version, request id, metadata ...).
          e instanceof WireError ? e : new WireError("ERR_ZAP_UNSPECIFIED", `ZAP handler failed: ${(e as Error)?.message ?? String(e)}`),
          accept,
        ),
    );
  }

  private zapAnswered(reply: ZapReply | null | WireError, accept: () => void): void {
    if (this.closed || this.zapDone) return;
    this.zapDone = true;
    this.zapPending = false;
    if (reply instanceof WireError) {
      this.failure = reply;
    } else if (reply === null) {
      accept();
    } else {
      const status = String(reply.status);
      // libzmq accepts exactly 200, 300, 400 and 500.
      if (!/^[2-5]00$/.test(status)) {
        this.failure = new WireError("ERR_ZAP_INVALID_STATUS_CODE", `ZAP handler replied with invalid status code ${JSON.stringify(status)}`);
      } else {
        this.userId = reply.userId ?? "";
        this.zapMetadata = reply.metadata ?? new Map();
        if (status === "200") {
          accept();
        } else {
          this.zapStatus = Number(status);
          this.zapStatusText = reply.statusText ?? "";
          if (status !== "300") this.errorFrame = this.encodeRefusal(status);
        }
      }
    }
    const notify = this.onReady;
    if (notify) notify();
  }

  /** Peer metadata as libzmq compiles it: ZAP properties (User-Id first) win over the peer's ZMTP properties. */
  protected mergeMetadata(zmtp: Map<string, Buffer>): Map<string, Buffer> {
    if (this.userId === null && this.zapMetadata.size === 0) return zmtp;
    const merged = new Map<string, Buffer>();
    if (this.userId !== null) merged.set("User-Id", Buffer.from(this.userId, "utf8"));
    for (const [k, v] of this.zapMetadata) if (!merged.has(k)) merged.set(k, v);
    for (const [k, v] of zmtp) if (!merged.has(k)) merged.set(k, v);
    return merged;
  }
}

/**
 * The ZAP status a peer's ERROR reason carries, as libzmq's handle_error_reason reads
 * it: exactly three characters "300", "400" or "500", else null.
 */
export function zapStatusOfReason(reason: string): number | null {
  return /^[345]00$/.test(reason) ? Number(reason) : null;
}

