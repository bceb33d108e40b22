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
import { ZapServerBase, zapStatusOfReason, type ZapHandler } from "./zap.js";
export { ZapServerBase, zapStatusOfReason, type ZapHandler, type ZapReply, type ZapRequest } from "./zap.js";

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
