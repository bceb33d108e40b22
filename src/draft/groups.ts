import { Socket, type SendOptions } from "../socket/socket-base.js";
import type { DishStrategy } from "../socket/dish.js";
import type { GroupMessage } from "../socket/radio.js";
import type { Message } from "../pipe/msg-queue.js";
import { toGroup } from "../socket/groups.js";
import { zmqError } from "../errors.js";
import type * as O from "../socket/option-types.js";

type Options = Record<string, unknown>;

export interface RadioGroupOptions {
  group: Buffer | string;
}

export interface DishGroupOptions {
  group: Buffer;
}

/** The group of the send() in progress (see routed.ts: a sealed socket has no room for it). */
let groupOfSend: Buffer | undefined;

class RadioSocket extends Socket {
  constructor(options?: Options) { super(14, options); }

  override send(message: unknown, options?: SendOptions & Partial<RadioGroupOptions>): Promise<never> {
    if (options?.group === undefined) return Promise.reject(zmqError("EINVAL", "Invalid argument: send() needs {group}"));
    try {
      groupOfSend = toGroup(options.group);
      return super.send(message, options) as Promise<never>;
    } catch (e) {
      return Promise.reject(e);
    } finally {
      groupOfSend = undefined;
    }
  }

  protected override prepareSend(message: unknown, copySmall?: boolean): Message {
    const msg: GroupMessage = super.prepareSend(message, copySmall);
    msg.group = groupOfSend;
    return msg;
  }
}

function withGroup(msg: Buffer[]): [Buffer, DishGroupOptions] {
  return [msg[0]!, { group: (msg as GroupMessage).group ?? Buffer.alloc(0) }];
}

class DishSocket extends Socket {
  constructor(options?: Options) { super(15, options); }

  /** Joins each group; EINVAL for one over 255 bytes or already joined (as libzmq). */
  join(...groups: Array<Buffer | string>): void {
    if (this.closed) throw zmqError("EBADF");
    for (const g of groups) (this._strategy as DishStrategy).join(toGroup(g));
  }

  /** Leaves each group; EINVAL for one not joined (as libzmq). */
  leave(...groups: Array<Buffer | string>): void {
    if (this.closed) throw zmqError("EBADF");
    for (const g of groups) (this._strategy as DishStrategy).leave(toGroup(g));
  }

  override receive(): Promise<Buffer[]> {
    return super.receive().then(withGroup) as unknown as Promise<Buffer[]>;
  }
}

/** RADIO: publishes each message to one group; dishes that joined it get it. */
export interface Radio extends Omit<RadioSocket, "send">, O.RadioOptions {
  send(message: unknown, options: RadioGroupOptions & SendOptions): Promise<void>;
}
export const Radio = RadioSocket as unknown as new (options?: Options) => Radio;

/** DISH: receives the messages of the groups it joined, each with its group. */
export interface Dish extends Omit<DishSocket, "receive" | typeof Symbol.asyncIterator>, O.DishOptions {
  receive(): Promise<[Buffer, DishGroupOptions]>;
  [Symbol.asyncIterator](): AsyncGenerator<[Buffer, DishGroupOptions], undefined, undefined>;
}
export const Dish = DishSocket as unknown as new (options?: Options) => Dish;
