import { ServerStrategy } from "./server.js";

/**
 * PEER: a SERVER that also connects; PEER sockets talk to PEER sockets. connectPeer()
 * connects and returns the routing id the new pipe got (`lastAttachedId`).
 */
export class PeerStrategy extends ServerStrategy {}
