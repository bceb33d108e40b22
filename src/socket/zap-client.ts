import type { Context } from "../context.js";
import { WireError } from "../wire/errors.js";
import { parseMetadata } from "../wire/commands.js";
import { Socket } from "./socket-base.js";

/** The fields of an RFC 27 request that the socket knows (the mechanism adds its own). */
export interface ZapRequestFields {
  domain: string;
  address: string;
  identity: Buffer;
  mechanism: string;
  credentials: Buffer[];
}

export interface ZapAnswer {
  status: string;
  statusText: string;
  userId: string;
  metadata: Map<string, Buffer>;
}

export const ZAP_ENDPOINT = "inproc://zeromq.zap.01";
const EMPTY = Buffer.alloc(0);
const VERSION = Buffer.from("1.0");

/**
 * Asks the ZAP handler bound to inproc://zeromq.zap.01 in a Context (RFC 27). One
 * hidden DEALER per Context carries every request; replies are matched by request id,
 * so a REP handler (replies in order) and a ROUTER handler (any order) both work. The
 * DEALER is driven through the synchronous device edge, so waiting for a handler that
 * never answers does not keep the process alive (the handshake timer ends that wait).
 */
class ZapClient {
  private dealer: Socket | null = null;
  private nextId = 1;
  private readonly waiting = new Map<string, { resolve: (a: ZapAnswer) => void; reject: (e: Error) => void }>();

  constructor(private readonly context: Context) {}

  /** Resolves to the handler's answer, or null when no handler is bound (libzmq then lets the peer in). */
  request(fields: ZapRequestFields): Promise<ZapAnswer | null> {
    if (!this.context.inproc.boundTo("zeromq.zap.01")) return Promise.resolve(null);
    const id = String(this.nextId++);
    const msg = [
      EMPTY, VERSION, Buffer.from(id), Buffer.from(fields.domain), Buffer.from(fields.address),
      fields.identity, Buffer.from(fields.mechanism), ...fields.credentials,
    ];
    return new Promise<ZapAnswer>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      // inproc without HWM: the request is taken, unless the handler we knew has gone
      // (its pipe ended with it); then a fresh DEALER joins the handler bound now.
      if (!this.ensureDealer()._sendNow(msg)) {
        this.dealer?.close();
        this.dealer = null;
      }
      if (!this.dealer && !this.ensureDealer()._sendNow(msg)) {
        this.waiting.delete(id);
        reject(new WireError("ERR_ZAP_UNSPECIFIED", "ZAP handler does not accept requests"));
      }
    });
  }

  private ensureDealer(): Socket {
    if (this.dealer && !this.dealer.closed) return this.dealer;
    const dealer = new Socket(5, { context: this.context, linger: 0 });
    dealer.connect(ZAP_ENDPOINT);
    dealer._activity = (kind) => {
      if (kind !== "readable") return;
      let reply: Buffer[] | null;
      while ((reply = dealer._receiveNow()) !== null) this.answer(reply);
    };
    this.dealer = dealer;
    return dealer;
  }

  /** Checks a reply in libzmq's order: shape, delimiter, version, request id, status, metadata. */
  private answer(frames: Buffer[]): void {
    const fail = (reason: string, message: string) => {
      // A reply we cannot trust ends every waiting handshake, as libzmq treats the ZAP pipe as broken.
      const err = new WireError(reason, message);
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    if (frames.length !== 7 || frames[0]!.length !== 0) {
      return fail("ERR_ZAP_MALFORMED_REPLY", "ZAP reply must be 7 frames after an empty delimiter");
    }
    if (frames[1]!.toString() !== "1.0") return fail("ERR_ZAP_BAD_VERSION", "ZAP reply version is not 1.0");
    const id = frames[2]!.toString();
    const waiter = this.waiting.get(id);
    if (!waiter) return fail("ERR_ZAP_BAD_REQUEST_ID", "ZAP reply with an unknown request id");
    this.waiting.delete(id);
    const status = frames[3]!.toString();
    if (!/^[2-5]00$/.test(status)) {
      waiter.reject(new WireError("ERR_ZAP_INVALID_STATUS_CODE", `ZAP status ${JSON.stringify(status)}`));
      return;
    }
    let metadata: Map<string, Buffer>;
    try {
      metadata = frames[6]!.length > 0 ? parseMetadata(frames[6]!) : new Map();
    } catch {
      waiter.reject(new WireError("ERR_ZAP_INVALID_METADATA", "ZAP reply metadata is malformed"));
      return;
    }
    waiter.resolve({ status, statusText: frames[4]!.toString(), userId: frames[5]!.toString(), metadata });
  }
}

const clients = new WeakMap<Context, ZapClient>();

export function zapClientFor(context: Context): ZapClient {
  let client = clients.get(context);
  if (!client) clients.set(context, (client = new ZapClient(context)));
  return client;
}
