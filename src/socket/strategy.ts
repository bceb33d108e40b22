import type { StrategyFactory } from "./strategy-types.js";
import { PairStrategy } from "./pair.js";
import { PubStrategy, XPubStrategy } from "./xpub.js";
import { SubStrategy, XSubStrategy } from "./xsub.js";
import { ReqStrategy } from "./req.js";
import { RepStrategy } from "./rep.js";
import { DealerStrategy } from "./dealer.js";
import { RouterStrategy } from "./router.js";
import { PullStrategy } from "./pull.js";
import { PushStrategy } from "./push.js";
import { StreamStrategy } from "./stream.js";
import { ServerStrategy } from "./server.js";
import { ClientStrategy } from "./client.js";
import { RadioStrategy } from "./radio.js";
import { DishStrategy } from "./dish.js";
import { GatherStrategy, ScatterStrategy } from "./gather.js";
import { DgramStrategy } from "./dgram.js";
import { PeerStrategy } from "./peer.js";
import { ChannelStrategy } from "./channel.js";

export type { Strategy, StrategyHost } from "./strategy-types.js";

/** Socket types by libzmq type number: `new Socket(5)` routes as a Dealer does. */
export const strategies: Readonly<Record<number, StrategyFactory>> = {
  0: (h) => new PairStrategy(h),
  1: (h) => new PubStrategy(h),
  2: (h) => new SubStrategy(h),
  3: (h) => new ReqStrategy(h),
  4: (h) => new RepStrategy(h),
  5: (h) => new DealerStrategy(h),
  6: (h) => new RouterStrategy(h),
  7: (h) => new PullStrategy(h),
  8: (h) => new PushStrategy(h),
  9: (h) => new XPubStrategy(h),
  10: (h) => new XSubStrategy(h),
  11: (h) => new StreamStrategy(h),
  // The draft types (zmq-ts/draft has their classes).
  12: (h) => new ServerStrategy(h),
  13: (h) => new ClientStrategy(h),
  14: (h) => new RadioStrategy(h),
  15: (h) => new DishStrategy(h),
  16: (h) => new GatherStrategy(h),
  17: (h) => new ScatterStrategy(h),
  18: (h) => new DgramStrategy(h),
  19: (h) => new PeerStrategy(h),
  20: (h) => new ChannelStrategy(h),
};
