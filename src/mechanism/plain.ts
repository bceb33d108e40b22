/**
 * The PLAIN mechanism (ZeroMQ RFC 24, ZMTP-PLAIN), with the field checks and error
 * reasons of libzmq's plain_client.cpp / plain_server.cpp, and the ZAP (RFC 27)
 * plumbing that the PLAIN and CURVE servers share.
 *
 *   C: HELLO    username-size username password-size password
 *   S: WELCOME  (no data; sent once ZAP said 200)
 *   C: INITIATE metadata
 *   S: READY    metadata
 *   S: ERROR    reason  (ZAP refused with 400/500: the reason is the 3-digit status code)
 *
 * libzmq quirk: plain_common.hpp spells the ERROR name "\x05ERROR", which C reads as
 * the byte 0x5E ("\x05E" is one hex escape) followed by "RROR". So a libzmq PLAIN
 * server sends ERROR as the body 5E "RROR" reason-size reason (a name length of 94
 * that the body is too short for), and a libzmq PLAIN client recognises only that
 * form. We send it the same way (libzmqErrorForm) and accept both forms; the engine
 * must parse PLAIN handshake commands with parseHandshakeCommand() for the latter.
 */
import { WireError } from "../wire/errors.js";
import { type Command, encodeCommandFrame, encodeError, encodeMetadata, parseCommand, parseErrorReason, parseMetadata } from "../wire/commands.js";
import { FLAG_COMMAND } from "../wire/frame-decoder.js";
import { zmqError } from "../errors.js";
import type { Mechanism, MechanismOptions, MechanismStatus } from "./mechanism.js";
import { basicProperties, checkPeerMetadata } from "./null.js";

// ---------------------------------------------------------------------------
// ZAP (RFC 27), shared by PlainServerMechanism and CurveServerMechanism.

/**
 * What a server mechanism asks its ZAP handler. The engine's closure adds what only
 * it knows (domain, peer address, routing id, request id) when it builds the RFC 27
 * request. credentials: PLAIN [username, password]; CURVE [client long-term public key, 32 bytes].
 */
export interface ZapRequest {
  mechanism: "PLAIN" | "CURVE";
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

// ---------------------------------------------------------------------------
// PLAIN

const LIBZMQ_ERROR_NAME = Buffer.from("^RROR", "latin1");

/**
 * parseCommand() that also understands libzmq's PLAIN ERROR (5E "RROR" reason-size
 * reason, see the header). Use it for handshake commands of a PLAIN connection.
 */
export function parseHandshakeCommand(body: Buffer): Command {
  if (body.length >= 6 && body.length < 1 + 0x5e && body.subarray(0, 5).equals(LIBZMQ_ERROR_NAME)) {
    return { name: "ERROR", data: body.subarray(5) };
  }
  return parseCommand(body);
}

/** The ERROR command frame exactly as libzmq's PLAIN server writes it. */
export function encodeLibzmqPlainError(reason: string): Buffer {
  const r = Buffer.from(reason, "latin1").subarray(0, 249); // keeps the frame short (size <= 255)
  const size = 5 + 1 + r.length;
  const frame = Buffer.allocUnsafe(2 + size);
  frame[0] = FLAG_COMMAND;
  frame[1] = size;
  LIBZMQ_ERROR_NAME.copy(frame, 2);
  frame[7] = r.length;
  r.copy(frame, 8);
  return frame;
}

function credential(what: string, value: string | Uint8Array): Buffer {
  const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : Buffer.from(value);
  if (bytes.length > 255) throw zmqError("EINVAL", `PLAIN ${what} is longer than 255 bytes`);
  return bytes;
}

type PlainClientState = "send-hello" | "expect-welcome" | "send-initiate" | "expect-ready" | "ready" | "error";

/** The PLAIN client (libzmq plain_client_t). */
export class PlainClientMechanism implements Mechanism {
  readonly name = "PLAIN";
  readonly asServer = false;
  peerMetadata = new Map<string, Buffer>();
  peerError: string | null = null;
  /** 300/400/500 when the server's ERROR carried a ZAP status code (libzmq emits an auth failure for it). */
  zapStatus: number | null = null;
  private state: PlainClientState = "send-hello";
  private readonly username: Buffer;
  private readonly password: Buffer;

  constructor(
    private readonly opts: MechanismOptions,
    username: string | Uint8Array,
    password: string | Uint8Array,
  ) {
    this.username = credential("username", username);
    this.password = credential("password", password);
  }

  get status(): MechanismStatus {
    return this.state === "ready" ? "ready" : this.state === "error" ? "error" : "handshaking";
  }

  nextCommand(): Buffer | null {
    if (this.state === "send-hello") {
      this.state = "expect-welcome";
      const data = Buffer.allocUnsafe(2 + this.username.length + this.password.length);
      data[0] = this.username.length;
      this.username.copy(data, 1);
      data[1 + this.username.length] = this.password.length;
      this.password.copy(data, 2 + this.username.length);
      return encodeCommandFrame("HELLO", data);
    }
    if (this.state === "send-initiate") {
      this.state = "expect-ready";
      return encodeCommandFrame("INITIATE", encodeMetadata(basicProperties(this.opts)));
    }
    return null;
  }

  processCommand(cmd: Command): void {
    switch (cmd.name) {
      case "WELCOME":
        if (this.state !== "expect-welcome") throw new WireError("ERR_ZMTP_UNEXPECTED_COMMAND", "unexpected PLAIN WELCOME");
        if (cmd.data.length !== 0) throw new WireError("ERR_ZMTP_MALFORMED_COMMAND_WELCOME", `PLAIN WELCOME carries ${cmd.data.length} unexpected bytes`);
        this.state = "send-initiate";
        return;
      case "READY": {
        if (this.state !== "expect-ready") throw new WireError("ERR_ZMTP_UNEXPECTED_COMMAND", "unexpected PLAIN READY");
        const props = parseMetadata(cmd.data);
        checkPeerMetadata(this.opts, props);
        this.peerMetadata = props;
        this.state = "ready";
        return;
      }
      case "ERROR":
        if (this.state !== "expect-welcome" && this.state !== "expect-ready") {
          throw new WireError("ERR_ZMTP_UNEXPECTED_COMMAND", "unexpected PLAIN ERROR");
        }
        this.peerError = parseErrorReason(cmd.data);
        this.zapStatus = zapStatusOfReason(this.peerError);
        this.state = "error";
        return;
      default:
        throw new WireError("ERR_ZMTP_UNEXPECTED_COMMAND", `unexpected ${cmd.name} during the PLAIN handshake`);
    }
  }
}

type PlainServerState = "expect-hello" | "send-welcome" | "expect-initiate" | "send-ready" | "ready";

/**
 * The PLAIN server (libzmq plain_server_t). With a ZAP handler, HELLO starts a ZAP
 * request and WELCOME waits for its answer; without one every client is accepted.
 */
export class PlainServerMechanism extends ZapServerBase implements Mechanism {
  readonly name = "PLAIN";
  readonly asServer = true;
  private state: PlainServerState = "expect-hello";
  private zmtpMetadata = new Map<string, Buffer>();
  /**
   * Send a ZAP refusal as libzmq's PLAIN server does (5E "RROR", see the header), so
   * libzmq clients report it as an authentication failure; false sends a well-formed ERROR.
   */
  libzmqErrorForm = true;
  /** The username and password the client sent (for tests and logging). */
  username: Buffer | null = null;
  password: Buffer | null = null;

  constructor(
    private readonly opts: MechanismOptions,
    zap?: ZapHandler,
  ) {
    super(zap);
  }

  get status(): MechanismStatus {
    if (this.refused) return "error";
    return this.state === "ready" ? "ready" : "handshaking";
  }

  get peerMetadata(): Map<string, Buffer> {
    return this.mergeMetadata(this.zmtpMetadata);
  }

  protected override encodeRefusal(status: string): Buffer {
    return this.libzmqErrorForm ? encodeLibzmqPlainError(status) : encodeError(status);
  }

  nextCommand(): Buffer | null {
    if (this.errorFrame) {
      const frame = this.errorFrame;
      this.errorFrame = null;
      return frame;
    }
    if (this.refused || this.zapPending) return null;
    if (this.state === "send-welcome") {
      this.state = "expect-initiate";
      return encodeCommandFrame("WELCOME");
    }
    if (this.state === "send-ready") {
      this.state = "ready";
      return encodeCommandFrame("READY", encodeMetadata(basicProperties(this.opts)));
    }
    return null;
  }

  processCommand(cmd: Command): void {
    if (this.refused || this.zapPending) {
      throw new WireError("ERR_ZMTP_UNEXPECTED_COMMAND", `unexpected ${cmd.name} while the PLAIN handshake ${this.refused ? "failed" : "waits for ZAP"}`);
    }
    if (this.state === "expect-hello") {
      if (cmd.name !== "HELLO") throw new WireError("ERR_ZMTP_UNEXPECTED_COMMAND", `expected PLAIN HELLO, got ${cmd.name}`);
      const { username, password } = parseHello(cmd.data);
      this.username = Buffer.from(username);
      this.password = Buffer.from(password);
      this.state = "send-welcome";
      // WELCOME goes out only once ZAP said yes (nextCommand() holds it back meanwhile).
      this.authenticate({ mechanism: "PLAIN", credentials: [this.username, this.password] }, () => {});
      return;
    }
    if (this.state === "expect-initiate") {
      if (cmd.name !== "INITIATE") throw new WireError("ERR_ZMTP_UNEXPECTED_COMMAND", `expected PLAIN INITIATE, got ${cmd.name}`);
      const props = parseMetadata(cmd.data);
      checkPeerMetadata(this.opts, props);
      this.zmtpMetadata = props;
      this.state = "send-ready";
      return;
    }
    throw new WireError("ERR_ZMTP_UNEXPECTED_COMMAND", `unexpected ${cmd.name} during the PLAIN handshake`);
  }
}

/** HELLO data: username-size username password-size password, nothing after (libzmq's checks). */
function parseHello(data: Buffer): { username: Buffer; password: Buffer } {
  if (data.length < 1) throw new WireError("ERR_ZMTP_MALFORMED_COMMAND_HELLO", "PLAIN HELLO has no username");
  const ulen = data[0]!;
  if (data.length - 1 < ulen) throw new WireError("ERR_ZMTP_MALFORMED_COMMAND_HELLO", "PLAIN HELLO username truncated");
  const username = data.subarray(1, 1 + ulen);
  let at = 1 + ulen;
  if (data.length - at < 1) throw new WireError("ERR_ZMTP_MALFORMED_COMMAND_HELLO", "PLAIN HELLO has no password");
  const plen = data[at]!;
  at += 1;
  if (data.length - at !== plen) throw new WireError("ERR_ZMTP_MALFORMED_COMMAND_HELLO", "PLAIN HELLO password malformed or followed by extra bytes");
  return { username, password: data.subarray(at, at + plen) };
}
