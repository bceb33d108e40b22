/**
 * The Jupyter wire format that IPython parallel speaks, signed with HMAC-SHA256:
 *
 *   [ identities..., "<IDS|MSG>", signature, header, parent_header, metadata, content, buffers... ]
 *
 * The signature is the hex HMAC of the four JSON frames, with the cluster's key. A
 * message whose signature does not match (or is missing), or whose frames are not what
 * the format says, makes `deserialize` throw a ClusterError with code EPROTO: the
 * caller drops and logs it, never acts on it. Buffers are passed through as received
 * (views, no copy).
 */
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { userInfo } from "node:os";
import { ClusterError } from "./errors.js";

export const DELIMITER = Buffer.from("<IDS|MSG>");
export const PROTOCOL_VERSION = "5.3";

export interface MessageHeader {
  msg_id: string;
  msg_type: string;
  username: string;
  session: string;
  date: string;
  version: string;
  [field: string]: unknown;
}

export type JsonObject = Record<string, unknown>;

export interface Message<C extends JsonObject = JsonObject> {
  /** Routing frames before the delimiter (ROUTER ids, PUB topics). */
  identities: Buffer[];
  header: MessageHeader;
  /** The header of the message this one answers, or {}. */
  parent_header: Partial<MessageHeader>;
  metadata: JsonObject;
  content: C;
  /** Out-of-band binary frames after the content. */
  buffers: Buffer[];
}

export interface BuildOptions {
  identities?: ReadonlyArray<Buffer | string>;
  /** The message answered: its header becomes parent_header. */
  parent?: Partial<MessageHeader> | Message;
  metadata?: JsonObject;
  buffers?: ReadonlyArray<Buffer | Uint8Array>;
  /** Fields merged into the header (msg_id, for one). */
  header?: Partial<MessageHeader>;
}

export interface SessionOptions {
  /** The HMAC key; empty means unsigned (Jupyter's convention), which the cluster never uses itself. */
  key: string | Uint8Array;
  username?: string;
  /** This session's id (default: a new uuid). */
  session?: string;
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "zmq-ts";
  }
}

const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === "object" && !Array.isArray(v);

export class Session {
  readonly key: Buffer;
  readonly session: string;
  readonly username: string;
  /** How many messages deserialize refused (bad signature or malformed). */
  rejected = 0;

  constructor(options: SessionOptions) {
    this.key = typeof options.key === "string" ? Buffer.from(options.key, "utf8") : Buffer.from(options.key);
    this.session = options.session ?? randomUUID();
    this.username = options.username ?? safeUser();
  }

  /** A new header of this session. */
  header(msgType: string, extra?: Partial<MessageHeader>): MessageHeader {
    return {
      msg_id: randomUUID(),
      msg_type: msgType,
      username: this.username,
      session: this.session,
      date: new Date().toISOString(),
      version: PROTOCOL_VERSION,
      ...extra,
    };
  }

  /** The hex signature of the four JSON frames ("" when the key is empty). */
  sign(parts: ReadonlyArray<Uint8Array>): string {
    if (this.key.length === 0) return "";
    const h = createHmac("sha256", this.key);
    for (const p of parts) h.update(p);
    return h.digest("hex");
  }

  /** The frames of a new message; returns the frames and its header. */
  build(msgType: string, content: JsonObject, options: BuildOptions = {}): { frames: Buffer[]; header: MessageHeader } {
    const header = this.header(msgType, options.header);
    const parent = options.parent === undefined ? {} : "header" in options.parent && isObject(options.parent.header)
      ? (options.parent as Message).header
      : (options.parent as Partial<MessageHeader>);
    const jsons = [header, parent, options.metadata ?? {}, content].map((v) => Buffer.from(JSON.stringify(v), "utf8"));
    const frames: Buffer[] = [];
    for (const id of options.identities ?? []) frames.push(typeof id === "string" ? Buffer.from(id) : id);
    frames.push(DELIMITER, Buffer.from(this.sign(jsons), "ascii"), ...jsons);
    for (const b of options.buffers ?? []) frames.push(Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    return { frames, header };
  }

  /**
   * Parses and verifies a received message. Throws ClusterError EPROTO (and counts it in
   * `rejected`) for anything malformed or wrongly signed.
   */
  deserialize(frames: ReadonlyArray<Buffer>): Message {
    try {
      return this.#parse(frames);
    } catch (e) {
      this.rejected++;
      throw e;
    }
  }

  #parse(frames: ReadonlyArray<Buffer>): Message {
    const at = frames.findIndex((f) => f.length === DELIMITER.length && f.equals(DELIMITER));
    if (at < 0) throw new ClusterError("EPROTO", "not a cluster message: no <IDS|MSG> delimiter");
    if (frames.length < at + 6) throw new ClusterError("EPROTO", `malformed message: ${frames.length - at - 1} frames after the delimiter, need at least 5`);
    const signature = frames[at + 1]!;
    const jsons = frames.slice(at + 2, at + 6);
    if (this.key.length > 0) {
      const expected = Buffer.from(this.sign(jsons), "ascii");
      if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
        throw new ClusterError("EPROTO", "message dropped: bad signature");
      }
    }
    const parsed = jsons.map((b, i) => {
      try {
        return JSON.parse(b.toString("utf8")) as unknown;
      } catch {
        throw new ClusterError("EPROTO", `malformed message: frame ${["header", "parent_header", "metadata", "content"][i]} is not JSON`);
      }
    });
    const [header, parent, metadata, content] = parsed;
    if (!isObject(header) || typeof header.msg_id !== "string" || typeof header.msg_type !== "string") {
      throw new ClusterError("EPROTO", "malformed message: header lacks msg_id / msg_type");
    }
    if (!isObject(parent) || !isObject(metadata) || !isObject(content)) {
      throw new ClusterError("EPROTO", "malformed message: parent_header, metadata and content must be objects");
    }
    return {
      identities: frames.slice(0, at),
      header: header as MessageHeader,
      parent_header: parent as Partial<MessageHeader>,
      metadata,
      content,
      buffers: frames.slice(at + 6),
    };
  }
}
