import { WireError } from "../wire/errors.js";
import { type Command, encodeCommandFrame, encodeMetadata, parseMetadata, parseErrorReason, getProperty } from "../wire/commands.js";
import type { Mechanism, MechanismOptions, MechanismStatus } from "./mechanism.js";
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

/** RFC 37's NULL mechanism: both sides send READY with their properties; no security. */
export class NullMechanism implements Mechanism {
  readonly name = "NULL";
  private readySent = false;
  private readyReceived = false;
  private failed = false;
  peerMetadata = new Map<string, Buffer>();
  peerError: string | null = null;

  constructor(private readonly opts: MechanismOptions) {}

  get status(): MechanismStatus {
    if (this.failed) return "error";
    return this.readySent && this.readyReceived ? "ready" : "handshaking";
  }

  nextCommand(): Buffer | null {
    if (this.readySent || this.failed) return null;
    this.readySent = true;
    return encodeCommandFrame("READY", encodeMetadata(basicProperties(this.opts)));
  }

  processCommand(cmd: Command): void {
    if (cmd.name === "ERROR") {
      this.failed = true;
      this.peerError = parseErrorReason(cmd.data);
      return;
    }
    if (cmd.name !== "READY" || this.readyReceived) {
      throw new WireError("ERR_ZMTP_UNEXPECTED_COMMAND", `unexpected ${cmd.name} during the NULL handshake`);
    }
    this.peerMetadata = parseMetadata(cmd.data);
    checkPeerMetadata(this.opts, this.peerMetadata);
    this.readyReceived = true;
  }
}
