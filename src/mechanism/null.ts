import { WireError } from "../wire/errors.js";
import { type Command, encodeCommandFrame, encodeMetadata, parseMetadata, parseErrorReason, getProperty } from "../wire/commands.js";
import type { Mechanism, MechanismOptions, MechanismStatus } from "./mechanism.js";
import { ZapServerBase, type ZapHandler } from "./zap.js";
import { isCompatible, sendsIdentity } from "./socket-types.js";

/** Our READY properties: Socket-Type always, Identity for the types that route. */
export function basicProperties(opts: MechanismOptions): [string, Uint8Array][] {
  const props: [string, Uint8Array][] = [["Socket-Type", Buffer.from(opts.socketType, "latin1")]];
  if (sendsIdentity(opts.socketType)) props.push(["Identity", opts.routingId ?? Buffer.alloc(0)]);
  return props;
}

/** Checks a peer's READY/INITIATE metadata; throws when its socket type cannot talk to ours. */
export function checkPeerMetadata(opts: MechanismOptions, props: Map<string, Buffer>): void {
  const type = getProperty(props, "Socket-Type");
  if (!type) throw new WireError("ERR_ZMTP_INVALID_METADATA", "peer sent no Socket-Type");
  const name = type.toString("latin1");
  if (!isCompatible(opts.socketType, name)) {
    throw new WireError("ERR_ZMTP_INVALID_METADATA", `socket type ${opts.socketType} cannot talk to ${name}`);
  }
}

/**
 * RFC 37's NULL mechanism: both sides send READY with their properties; no security.
 * With a ZAP handler (the socket set `zapDomain`), the peer is first put to ZAP with
 * mechanism "NULL" and no credentials, as libzmq does: our READY goes only after a 200.
 */
export class NullMechanism extends ZapServerBase implements Mechanism {
  readonly name = "NULL";
  readonly asServer = false;
  private readySent = false;
  private readyReceived = false;
  private peerFailed = false;
  private authorized: boolean;
  private asked = false;
  private zmtpMetadata = new Map<string, Buffer>();

  constructor(private readonly opts: MechanismOptions, zap?: ZapHandler) {
    super(zap);
    this.authorized = zap === undefined;
  }

  get status(): MechanismStatus {
    if (this.peerFailed || this.refused) return "error";
    return this.readySent && this.readyReceived && this.authorized ? "ready" : "handshaking";
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
    if (this.readySent || this.peerFailed || this.refused) return null;
    if (!this.authorized) {
      // Ask ZAP once the greetings are exchanged (the first time we may speak).
      if (!this.asked) {
        this.asked = true;
        this.authenticate({ mechanism: "NULL", credentials: [] }, () => (this.authorized = true));
        if (!this.authorized) return null;
      } else {
        return null;
      }
    }
    this.readySent = true;
    return encodeCommandFrame("READY", encodeMetadata(basicProperties(this.opts)));
  }

  processCommand(cmd: Command): void {
    if (cmd.name === "ERROR") {
      this.peerFailed = true;
      this.peerError = parseErrorReason(cmd.data);
      return;
    }
    if (cmd.name !== "READY" || this.readyReceived) {
      throw new WireError("ERR_ZMTP_UNEXPECTED_COMMAND", `unexpected ${cmd.name} during the NULL handshake`);
    }
    this.zmtpMetadata = parseMetadata(cmd.data);
    checkPeerMetadata(this.opts, this.zmtpMetadata);
    this.readyReceived = true;
  }
}
