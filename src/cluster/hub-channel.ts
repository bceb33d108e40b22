/**
 * A DEALER to the hub's registration ROUTER, for requests that expect one reply
 * (registration, connection, queue, result, shutdown): each request waits for the reply
 * whose parent_header.msg_id is its own, within a timeout. Anything else that arrives
 * (the hub's shutdown_request to an engine) goes to `onOther`. Messages that are not
 * correctly signed are dropped, counted and logged.
 */
import type { Dealer } from "../index.js";
import { ClusterError } from "./errors.js";
import { drop, receiveLoop, type DropCounts, type Logger } from "./log.js";
import type { JsonObject, Message, Session } from "./session.js";

interface Waiting {
  resolve(msg: Message): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export class HubChannel {
  readonly #socket: Dealer;
  readonly #session: Session;
  readonly #log: Logger;
  readonly #dropped: DropCounts;
  readonly #waiting = new Map<string, Waiting>();
  #onOther: (msg: Message) => void = () => {};
  #closed = false;

  constructor(socket: Dealer, session: Session, log: Logger, dropped: DropCounts) {
    this.#socket = socket;
    this.#session = session;
    this.#log = log;
    this.#dropped = dropped;
    void receiveLoop(socket, (f) => this.#onFrames(f), log, "registration");
  }

  /** Where messages that answer no request go. */
  set onOther(handler: (msg: Message) => void) {
    this.#onOther = handler;
  }

  /** Sends a request and resolves with its reply; ETIMEDOUT after `timeout` ms, ECLOSED on close(). */
  request(msgType: string, content: JsonObject, timeout: number): Promise<Message> {
    if (this.#closed) return Promise.reject(new ClusterError("ECLOSED", "closed"));
    const { frames, header } = this.#session.build(msgType, content);
    return new Promise<Message>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(header.msg_id);
        reject(new ClusterError("ETIMEDOUT", `no ${msgType.replace(/_request$/, "_reply")} from the hub within ${timeout} ms`));
      }, timeout);
      this.#waiting.set(header.msg_id, { resolve, reject, timer });
      this.#socket.send(frames).catch((e: Error) => {
        const w = this.#waiting.get(header.msg_id);
        if (!w) return;
        this.#waiting.delete(header.msg_id);
        clearTimeout(w.timer);
        reject(this.#closed ? new ClusterError("ECLOSED", "closed") : e);
      });
    });
  }

  /** Sends a message that expects no reply. */
  send(msgType: string, content: JsonObject, parent?: Message): Promise<void> {
    const { frames } = this.#session.build(msgType, content, parent ? { parent } : {});
    return this.#socket.send(frames);
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#waiting.values()) {
      clearTimeout(w.timer);
      w.reject(new ClusterError("ECLOSED", "closed while waiting for the hub"));
    }
    this.#waiting.clear();
  }

  #onFrames(frames: Buffer[]): void {
    let msg: Message;
    try {
      msg = this.#session.deserialize(frames);
    } catch (e) {
      drop(this.#dropped, this.#log, "registration", "invalid", e);
      return;
    }
    const parent = msg.parent_header.msg_id;
    const w = typeof parent === "string" ? this.#waiting.get(parent) : undefined;
    if (w && msg.header.msg_type.endsWith("_reply")) {
      this.#waiting.delete(parent as string);
      clearTimeout(w.timer);
      w.resolve(msg);
      return;
    }
    this.#onOther(msg);
  }
}
