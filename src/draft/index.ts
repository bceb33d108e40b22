/**
 * @module zmq-ts/draft
 * zmq-ts/draft: libzmq's draft socket types, with zeromq.js v6's `zeromq/draft` names:
 * Server/Client, Radio/Dish, Gather/Scatter, Datagram, plus libzmq's Peer and Channel.
 * Every message is one frame. udp:// carries Radio/Dish and Datagram.
 */
// The main module defines the options every socket has (on Socket.prototype) and its helpers.
import "../index.js";
import { classOptionNames, defineOptionAccessors } from "../socket/options.js";
import { Server, Peer } from "./routed.js";
import { Radio, Dish } from "./groups.js";
import { Client, Gather, Scatter, Datagram, Channel } from "./plain.js";

export { Server, Peer, Radio, Dish, Client, Gather, Scatter, Datagram, Channel };
export type { ServerRoutingOptions } from "./routed.js";
export type { RadioGroupOptions, DishGroupOptions } from "./groups.js";

const classes: Record<string, { prototype: object }> = { Server, Client, Radio, Dish, Gather, Scatter, Datagram, Peer, Channel };
for (const [name, cls] of Object.entries(classes)) defineOptionAccessors(cls.prototype, classOptionNames[name] ?? []);
