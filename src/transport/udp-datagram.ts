import type { Message } from "../pipe/msg-queue.js";

/**
 * RADIO/DISH over udp, as libzmq 4.3 frames it: one datagram per message,
 *   group-length (1 octet) group body
 * Our pipes carry such a message as two frames, [group, body].
 */
export function encodeGroupDatagram(msg: Message): Buffer | null {
  if (msg.length !== 2) return null;
  const group = msg[0]!;
  const body = msg[1]!;
  if (group.length > 255) return null;
  const out = Buffer.allocUnsafe(1 + group.length + body.length);
  out[0] = group.length;
  out.set(group, 1);
  out.set(body, 1 + group.length);
  return out;
}

/** [group, body] (views), or null for a datagram too short for the group it announces. */
export function decodeGroupDatagram(data: Buffer): Message | null {
  if (data.length === 0) return null;
  const end = 1 + data[0]!;
  if (end > data.length) return null;
  return [data.subarray(1, end), data.subarray(end)];
}
