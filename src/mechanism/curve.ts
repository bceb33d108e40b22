/**
 * The CURVE mechanism (ZeroMQ RFC 26, CurveZMQ, as ZMTP 3 carries it), byte for byte
 * as libzmq's curve_client.cpp, curve_client_tools.hpp, curve_server.cpp and
 * curve_mechanism_base.cpp lay it out. Command data (after the command name):
 *
 *   C: HELLO     version (1, 0)  padding (72 zeros)  C' (32)  short nonce (8)
 *                Box[64 zeros](C'->S) (80)                               194 bytes
 *   S: WELCOME   long nonce (16)  Box[S' + cookie](S->C') (144)           160 bytes
 *                cookie = cookie nonce (16) + SecretBox[C' + s'](K) (80), K per connection
 *   C: INITIATE  cookie (96)  short nonce (8)  Box[C + vouch nonce (16) + vouch (80)
 *                + metadata](C'->S'),  vouch = Box[C' + S](C->S')
 *   S: READY     short nonce (8)  Box[metadata](S'->C')
 *   *: MESSAGE   short nonce (8)  Box[flags (1) + frame body](C'<->S')
 *
 * Full nonces: "CurveZMQHELLO---" + short, "WELCOME-" + long, "COOKIE--" + long,
 * "VOUCH---" + long, "CurveZMQINITIATE" + short, "CurveZMQREADY---" + short,
 * "CurveZMQMESSAGEC" (client to server) / "CurveZMQMESSAGES" (server to client) + short.
 * Each side counts its short nonces from 1 (the client's HELLO is 1, INITIATE 2,
 * its first MESSAGE 3; the server's READY is 1), and a MESSAGE's nonce must be
 * greater than the last one seen from the peer.
 *
 * Once the handshake is done every frame, commands (PING, SUBSCRIBE, ...) included,
 * travels as a MESSAGE: encodeFrame() builds the frame to write (a ZMTP frame with
 * flags 0, as libzmq sends it: MORE and COMMAND travel inside the box, as bits 0x01
 * and 0x02 of the first plaintext byte), decodeMessage() opens one.
 */
import { WireError } from "../wire/errors.js";
import { type Command, encodeCommandFrame, encodeMetadata, parseErrorReason, parseMetadata } from "../wire/commands.js";
import { FLAG_COMMAND, FLAG_MORE } from "../wire/frame-decoder.js";
import { frameHeaderSize, writeFrameHeader } from "../wire/frame-encoder.js";
import {
  MAC_BYTES,
  box,
  boxAfternm,
  boxAfternmInPlace,
  boxBeforenm,
  boxKeyPair,
  boxOpen,
  boxOpenAfternm,
  boxOpenAfternmDetached,
  randomBytes,
  scalarmultBase,
  secretbox,
  secretboxOpen,
} from "../crypto/box.js";
import { parseKey } from "../crypto/keys.js";
import type { Mechanism, MechanismOptions, MechanismStatus } from "./mechanism.js";
import { basicProperties, checkPeerMetadata } from "./null.js";
import { ZapServerBase, zapStatusOfReason, type ZapHandler } from "./plain.js";

/** A CURVE key: 32 raw bytes or 40 Z85 characters. */
export type CurveKey = string | Uint8Array;

export interface CurveClientKeys {
  /** Our long-term public key C. */
  publicKey: CurveKey;
  /** Our long-term secret key c. */
  secretKey: CurveKey;
  /** The server's long-term public key S. */
  serverKey: CurveKey;
}

export interface CurveServerKeys {
  /** Optional and only informative: libzmq ignores it, we derive S from secretKey. */
  publicKey?: CurveKey;
  /** Our long-term secret key s. */
  secretKey: CurveKey;
}

/** What decodeMessage() found in a MESSAGE box. */
export interface CurveFrame {
  /** Another frame of the same message follows. */
  more: boolean;
  /** The body is a command (name-size name data): PING, PONG, SUBSCRIBE, CANCEL, ... */
  command: boolean;
  body: Buffer;
}

const HELLO_DATA_SIZE = 194; // 200-byte command body less "\x05HELLO"
const WELCOME_DATA_SIZE = 160; // 168 less "\x07WELCOME"
const INITIATE_MIN_DATA_SIZE = 248; // 257 less "\x08INITIATE"
const READY_MIN_DATA_SIZE = 24; // 30 less "\x05READY"
const MESSAGE_NAME = Buffer.from("\x07MESSAGE", "latin1");
const MESSAGE_HEADER = MESSAGE_NAME.length + 8; // name + short nonce
const MESSAGE_MIN_SIZE = MESSAGE_HEADER + MAC_BYTES + 1; // 33, as libzmq checks
const INNER_MORE = 0x01; // libzmq msg_t::more
const INNER_COMMAND = 0x02; // libzmq msg_t::command

/** A 24-byte nonce: a 16-byte prefix then a big-endian 64-bit counter. */
function shortNonce(prefix: string, n: bigint): Buffer {
  const nonce = Buffer.allocUnsafe(24);
  nonce.write(prefix, 0, 16, "latin1");
  nonce.writeBigUInt64BE(n, 16);
  return nonce;
}

/** A 24-byte nonce: an 8-byte prefix then 16 bytes (random when sending). */
function longNonce(prefix: string, tail: Uint8Array): Buffer {
  const nonce = Buffer.allocUnsafe(24);
  nonce.write(prefix, 0, 8, "latin1");
  nonce.set(tail, 8);
  return nonce;
}

/**
 * The connection's traffic crypto, once the handshake has agreed on the key:
 * our nonce counter, the last nonce the peer used, MESSAGE encoding/decoding.
 */
class CurveMessageCodec {
  /** crypto_box_beforenm(peer's short-term key, our short-term secret). */
  key: Buffer | null = null;
  /** The last short nonce the peer used (HELLO / INITIATE / READY / MESSAGE). */
  peerNonce = 1n;
  private nonce = 1n;
  private readonly sendNonce: Buffer;
  private readonly recvNonce: Buffer;

  constructor(sendPrefix: string, recvPrefix: string) {
    this.sendNonce = shortNonce(sendPrefix, 0n);
    this.recvNonce = shortNonce(recvPrefix, 0n);
  }

  /** Our next short nonce (get_and_inc_nonce). */
  takeNonce(): bigint {
    return this.nonce++;
  }

  encodeFrame(flags: number, body: Uint8Array): Buffer {
    const key = this.key;
    if (!key) throw new Error("CURVE: encodeFrame() before the handshake completed");
    const size = MESSAGE_HEADER + MAC_BYTES + 1 + body.length;
    const frame = Buffer.allocUnsafe(frameHeaderSize(size) + size);
    let at = writeFrameHeader(frame, 0, 0, size);
    MESSAGE_NAME.copy(frame, at);
    at += MESSAGE_NAME.length;
    const n = this.takeNonce();
    frame.writeBigUInt64BE(n, at);
    this.sendNonce.writeBigUInt64BE(n, 16);
    at += 8;
    const mac = frame.subarray(at, at + MAC_BYTES);
    const data = frame.subarray(at + MAC_BYTES);
    data[0] = (flags & FLAG_MORE ? INNER_MORE : 0) | (flags & FLAG_COMMAND ? INNER_COMMAND : 0);
    data.set(body, 1);
    boxAfternmInPlace(data, mac, this.sendNonce, key);
    return frame;
  }

  decodeMessage(body: Buffer): CurveFrame {
    if (body.length < MESSAGE_NAME.length || !body.subarray(0, MESSAGE_NAME.length).equals(MESSAGE_NAME)) {
      throw new WireError("ERR_ZMTP_UNEXPECTED_COMMAND", "expected a CURVE MESSAGE command");
    }
    const key = this.key;
    if (!key) throw new WireError("ERR_ZMTP_UNEXPECTED_COMMAND", "CURVE MESSAGE before the handshake completed");
    if (body.length < MESSAGE_MIN_SIZE) {
      throw new WireError("ERR_ZMTP_MALFORMED_COMMAND_MESSAGE", `CURVE MESSAGE too short (${body.length} bytes, need ${MESSAGE_MIN_SIZE})`);
    }
    const n = body.readBigUInt64BE(MESSAGE_NAME.length);
    if (n <= this.peerNonce) {
      throw new WireError("ERR_ZMTP_INVALID_SEQUENCE", `CURVE MESSAGE nonce ${n} does not follow ${this.peerNonce}`);
    }
    this.recvNonce.writeBigUInt64BE(n, 16);
    const mac = body.subarray(MESSAGE_HEADER, MESSAGE_HEADER + MAC_BYTES);
    const ciphertext = body.subarray(MESSAGE_HEADER + MAC_BYTES);
    const plain = Buffer.allocUnsafe(ciphertext.length);
    if (!boxOpenAfternmDetached(plain, ciphertext, mac, this.recvNonce, key)) {
      throw new WireError("ERR_ZMTP_CRYPTOGRAPHIC", "CURVE MESSAGE box does not open");
    }
    this.peerNonce = n;
    const flags = plain[0]!;
    return { more: (flags & INNER_MORE) !== 0, command: (flags & INNER_COMMAND) !== 0, body: plain.subarray(1) };
  }
}

function cryptoError(message: string): WireError {
  return new WireError("ERR_ZMTP_CRYPTOGRAPHIC", message);
}

// ---------------------------------------------------------------------------

type ClientState = "send-hello" | "expect-welcome" | "send-initiate" | "expect-ready" | "ready" | "error";

/** The CURVE client (libzmq curve_client_t). */
export class CurveClientMechanism implements Mechanism {
  readonly name = "CURVE";
  readonly asServer = false;
  peerMetadata = new Map<string, Buffer>();
  peerError: string | null = null;
  /** 300/400/500 when the server's ERROR carried a ZAP status code (libzmq emits an auth failure for it). */
  zapStatus: number | null = null;

  private state: ClientState = "send-hello";
  private readonly publicKey: Buffer;
  private readonly secretKey: Buffer;
  private readonly serverKey: Buffer;
  private readonly cnPublic: Buffer;
  private readonly cnSecret: Buffer;
  private cnServer: Buffer | null = null;
  private cookie: Buffer | null = null;
  private readonly codec = new CurveMessageCodec("CurveZMQMESSAGEC", "CurveZMQMESSAGES");

  constructor(
    private readonly opts: MechanismOptions,
    keys: CurveClientKeys,
  ) {
    this.publicKey = parseKey(keys.publicKey, "curvePublicKey");
    this.secretKey = parseKey(keys.secretKey, "curveSecretKey");
    this.serverKey = parseKey(keys.serverKey, "curveServerKey");
    const { publicKey, secretKey } = boxKeyPair();
    this.cnPublic = publicKey;
    this.cnSecret = secretKey;
  }

  get status(): MechanismStatus {
    return this.state === "ready" ? "ready" : this.state === "error" ? "error" : "handshaking";
  }

  nextCommand(): Buffer | null {
    if (this.state === "send-hello") {
      this.state = "expect-welcome";
      return this.produceHello();
    }
    if (this.state === "send-initiate") {
      this.state = "expect-ready";
      return this.produceInitiate();
    }
    return null;
  }

  processCommand(cmd: Command): void {
    switch (cmd.name) {
      case "WELCOME":
        if (this.state !== "expect-welcome") throw new WireError("ERR_ZMTP_UNEXPECTED_COMMAND", "unexpected CURVE WELCOME");
        this.processWelcome(cmd.data);
        return;
      case "READY":
        if (this.state !== "expect-ready") throw new WireError("ERR_ZMTP_UNEXPECTED_COMMAND", "unexpected CURVE READY");
        this.processReady(cmd.data);
        return;
      case "ERROR":
        if (this.state !== "expect-welcome" && this.state !== "expect-ready") {
          throw new WireError("ERR_ZMTP_UNEXPECTED_COMMAND", "unexpected CURVE ERROR");
        }
        this.peerError = parseErrorReason(cmd.data);
        this.zapStatus = zapStatusOfReason(this.peerError);
        this.state = "error";
        return;
      default:
        throw new WireError("ERR_ZMTP_UNEXPECTED_COMMAND", `unexpected ${cmd.name} during the CURVE handshake`);
    }
  }

  /** The MESSAGE frame (whole ZMTP frame) carrying one frame; `flags` are ZMTP frame flags (FLAG_MORE, FLAG_COMMAND). */
  encodeFrame(flags: number, body: Uint8Array): Buffer {
    if (this.state !== "ready") throw new Error("CURVE: encodeFrame() before the handshake completed");
    return this.codec.encodeFrame(flags, body);
  }

  /** Opens a MESSAGE: `body` is the whole frame body, "\x07MESSAGE" included. Throws WireError. */
  decodeMessage(body: Buffer): CurveFrame {
    if (this.state !== "ready") throw new WireError("ERR_ZMTP_UNEXPECTED_COMMAND", "CURVE MESSAGE before the handshake completed");
    return this.codec.decodeMessage(body);
  }

  private produceHello(): Buffer {
    const n = this.codec.takeNonce();
    const signature = box(Buffer.alloc(64), shortNonce("CurveZMQHELLO---", n), this.serverKey, this.cnSecret);
    if (!signature) throw cryptoError("cannot make the CURVE HELLO box (invalid server key)");
    const data = Buffer.alloc(HELLO_DATA_SIZE); // version and padding zeroed
    data[0] = 1; // CurveZMQ 1.0
    data[1] = 0;
    this.cnPublic.copy(data, 74);
    data.writeBigUInt64BE(n, 106);
    signature.copy(data, 114);
    return encodeCommandFrame("HELLO", data);
  }

  private processWelcome(data: Buffer): void {
    // libzmq reports any WELCOME it cannot use, wrong size included, as CRYPTOGRAPHIC.
    if (data.length !== WELCOME_DATA_SIZE) throw cryptoError(`CURVE WELCOME is ${data.length + 8} bytes, expected 168`);
    const plain = boxOpen(data.subarray(16), longNonce("WELCOME-", data.subarray(0, 16)), this.serverKey, this.cnSecret);
    if (!plain) throw cryptoError("CURVE WELCOME box does not open (wrong server key?)");
    const cnServer = Buffer.from(plain.subarray(0, 32));
    const key = boxBeforenm(cnServer, this.cnSecret);
    if (!key) throw cryptoError("CURVE WELCOME carries an invalid server short-term key");
    this.cnServer = cnServer;
    this.cookie = Buffer.from(plain.subarray(32, 128));
    this.codec.key = key;
    this.state = "send-initiate";
  }

  private produceInitiate(): Buffer {
    const cnServer = this.cnServer!;
    const vouchNonce = longNonce("VOUCH---", randomBytes(16));
    const vouch = box(Buffer.concat([this.cnPublic, this.serverKey]), vouchNonce, cnServer, this.secretKey);
    if (!vouch) throw cryptoError("cannot make the CURVE vouch box");
    const metadata = encodeMetadata(basicProperties(this.opts));
    const n = this.codec.takeNonce();
    const sealed = boxAfternm(Buffer.concat([this.publicKey, vouchNonce.subarray(8), vouch, metadata]), shortNonce("CurveZMQINITIATE", n), this.codec.key!);
    const data = Buffer.allocUnsafe(96 + 8 + sealed.length);
    this.cookie!.copy(data, 0);
    data.writeBigUInt64BE(n, 96);
    sealed.copy(data, 104);
    // The short-term secret has done its work (the connection key is precomputed).
    this.cnSecret.fill(0);
    this.cookie = null;
    return encodeCommandFrame("INITIATE", data);
  }

  private processReady(data: Buffer): void {
    if (data.length < READY_MIN_DATA_SIZE) {
      throw new WireError("ERR_ZMTP_MALFORMED_COMMAND_READY", `CURVE READY is ${data.length + 6} bytes, need at least 30`);
    }
    const n = data.readBigUInt64BE(0);
    const plain = boxOpenAfternm(data.subarray(8), shortNonce("CurveZMQREADY---", n), this.codec.key!);
    if (!plain) throw cryptoError("CURVE READY box does not open");
    const props = parseMetadata(plain);
    checkPeerMetadata(this.opts, props);
    this.codec.peerNonce = n;
    this.peerMetadata = props;
    this.state = "ready";
  }
}

// ---------------------------------------------------------------------------

type ServerState = "expect-hello" | "send-welcome" | "expect-initiate" | "send-ready" | "ready";

/**
 * The CURVE server (libzmq curve_server_t). After a valid INITIATE it asks ZAP (if a
 * handler is given) with the client's long-term public key, and sends READY once
 * ZAP said 200 (or at once without a handler: the "Stonehouse" pattern).
 */
export class CurveServerMechanism extends ZapServerBase implements Mechanism {
  readonly name = "CURVE";
  readonly asServer = true;
  /** The client's long-term public key C (32 bytes), known after INITIATE. */
  clientKey: Buffer | null = null;

  private state: ServerState = "expect-hello";
  private readonly secretKey: Buffer;
  private readonly publicKey: Buffer;
  private readonly cnPublic: Buffer;
  private readonly cnSecret: Buffer;
  private cnClient: Buffer | null = null;
  private cookieKey: Buffer | null = null;
  private zmtpMetadata = new Map<string, Buffer>();
  private readonly codec = new CurveMessageCodec("CurveZMQMESSAGES", "CurveZMQMESSAGEC");

  constructor(
    private readonly opts: MechanismOptions,
    keys: CurveServerKeys,
    zap?: ZapHandler,
  ) {
    super(zap);
    this.secretKey = parseKey(keys.secretKey, "curveSecretKey");
    this.publicKey = scalarmultBase(this.secretKey);
    const { publicKey, secretKey } = boxKeyPair();
    this.cnPublic = publicKey;
    this.cnSecret = secretKey;
  }

  get status(): MechanismStatus {
    if (this.refused) return "error";
    return this.state === "ready" ? "ready" : "handshaking";
  }

  get peerMetadata(): Map<string, Buffer> {
    return this.mergeMetadata(this.zmtpMetadata);
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
      return this.produceWelcome();
    }
    if (this.state === "send-ready") {
      this.state = "ready";
      return this.produceReady();
    }
    return null;
  }

  processCommand(cmd: Command): void {
    if (this.refused || this.zapPending) {
      throw new WireError("ERR_ZMTP_UNEXPECTED_COMMAND", `unexpected ${cmd.name} while the CURVE handshake ${this.refused ? "failed" : "waits for ZAP"}`);
    }
    if (this.state === "expect-hello") {
      if (cmd.name !== "HELLO") throw new WireError("ERR_ZMTP_UNEXPECTED_COMMAND", `expected CURVE HELLO, got ${cmd.name}`);
      this.processHello(cmd.data);
      return;
    }
    if (this.state === "expect-initiate") {
      if (cmd.name !== "INITIATE") throw new WireError("ERR_ZMTP_UNEXPECTED_COMMAND", `expected CURVE INITIATE, got ${cmd.name}`);
      this.processInitiate(cmd.data);
      return;
    }
    throw new WireError("ERR_ZMTP_UNEXPECTED_COMMAND", `unexpected ${cmd.name} during the CURVE handshake`);
  }

  /** The MESSAGE frame (whole ZMTP frame) carrying one frame; `flags` are ZMTP frame flags (FLAG_MORE, FLAG_COMMAND). */
  encodeFrame(flags: number, body: Uint8Array): Buffer {
    if (this.state !== "ready" || this.refused) throw new Error("CURVE: encodeFrame() before the handshake completed");
    return this.codec.encodeFrame(flags, body);
  }

  /** Opens a MESSAGE: `body` is the whole frame body, "\x07MESSAGE" included. Throws WireError. */
  decodeMessage(body: Buffer): CurveFrame {
    if (this.state !== "ready" || this.refused) throw new WireError("ERR_ZMTP_UNEXPECTED_COMMAND", "CURVE MESSAGE before the handshake completed");
    return this.codec.decodeMessage(body);
  }

  private processHello(data: Buffer): void {
    if (data.length !== HELLO_DATA_SIZE) {
      throw new WireError("ERR_ZMTP_MALFORMED_COMMAND_HELLO", `CURVE HELLO is ${data.length + 6} bytes, expected 200`);
    }
    if (data[0] !== 1 || data[1] !== 0) {
      throw new WireError("ERR_ZMTP_MALFORMED_COMMAND_HELLO", `CURVE HELLO has unknown version ${data[0]}.${data[1]}`);
    }
    const cnClient = Buffer.from(data.subarray(74, 106));
    const n = data.readBigUInt64BE(106);
    const plain = boxOpen(data.subarray(114, 194), shortNonce("CurveZMQHELLO---", n), cnClient, this.secretKey);
    if (!plain) throw cryptoError("CURVE HELLO box does not open (client uses another server key?)");
    this.cnClient = cnClient;
    this.codec.peerNonce = n;
    this.state = "send-welcome";
  }

  private produceWelcome(): Buffer {
    const cnClient = this.cnClient!;
    // A fresh cookie key for this connection, forgotten once INITIATE is checked.
    this.cookieKey = randomBytes(32);
    const cookieNonce = longNonce("COOKIE--", randomBytes(16));
    const cookie = secretbox(Buffer.concat([cnClient, this.cnSecret]), cookieNonce, this.cookieKey);
    const welcomeNonce = longNonce("WELCOME-", randomBytes(16));
    const sealed = box(Buffer.concat([this.cnPublic, cookieNonce.subarray(8), cookie]), welcomeNonce, cnClient, this.secretKey);
    if (!sealed) throw cryptoError("cannot make the CURVE WELCOME box");
    return encodeCommandFrame("WELCOME", Buffer.concat([welcomeNonce.subarray(8), sealed]));
  }

  private processInitiate(data: Buffer): void {
    if (data.length < INITIATE_MIN_DATA_SIZE) {
      throw new WireError("ERR_ZMTP_MALFORMED_COMMAND_INITIATE", `CURVE INITIATE is ${data.length + 9} bytes, need at least 257`);
    }
    const cnClient = this.cnClient!;
    const cookieKey = this.cookieKey!;
    const cookie = secretboxOpen(data.subarray(16, 96), longNonce("COOKIE--", data.subarray(0, 16)), cookieKey);
    if (!cookie) throw cryptoError("CURVE INITIATE cookie does not open");
    if (!cookie.subarray(0, 32).equals(cnClient) || !cookie.subarray(32, 64).equals(this.cnSecret)) {
      throw cryptoError("CURVE INITIATE cookie is not ours");
    }
    cookieKey.fill(0);
    this.cookieKey = null;

    const key = boxBeforenm(cnClient, this.cnSecret);
    if (!key) throw cryptoError("CURVE client short-term key is invalid");
    const n = data.readBigUInt64BE(96);
    const plain = boxOpenAfternm(data.subarray(104), shortNonce("CurveZMQINITIATE", n), key);
    if (!plain) throw cryptoError("CURVE INITIATE box does not open");

    const clientKey = Buffer.from(plain.subarray(0, 32));
    const vouch = boxOpen(plain.subarray(48, 128), longNonce("VOUCH---", plain.subarray(32, 48)), clientKey, this.cnSecret);
    if (!vouch) throw cryptoError("CURVE INITIATE vouch does not open");
    if (!vouch.subarray(0, 32).equals(cnClient)) {
      throw new WireError("ERR_ZMTP_KEY_EXCHANGE", "CURVE vouch does not name the client's short-term key");
    }
    if (!vouch.subarray(32, 64).equals(this.publicKey)) {
      throw new WireError("ERR_ZMTP_KEY_EXCHANGE", "CURVE vouch does not name our public key");
    }
    const props = parseMetadata(plain.subarray(128));
    checkPeerMetadata(this.opts, props);

    this.codec.peerNonce = n;
    this.codec.key = key;
    this.cnSecret.fill(0); // the connection key is precomputed; s' is no longer needed
    this.clientKey = clientKey;
    this.zmtpMetadata = props;
    this.state = "send-ready";
    this.authenticate({ mechanism: "CURVE", credentials: [Buffer.from(clientKey)] }, () => {});
  }

  private produceReady(): Buffer {
    const n = this.codec.takeNonce();
    const sealed = boxAfternm(encodeMetadata(basicProperties(this.opts)), shortNonce("CurveZMQREADY---", n), this.codec.key!);
    const data = Buffer.allocUnsafe(8 + sealed.length);
    data.writeBigUInt64BE(n, 0);
    sealed.copy(data, 8);
    return encodeCommandFrame("READY", data);
  }
}
