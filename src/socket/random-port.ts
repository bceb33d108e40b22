import { zmqError, isZmqError } from "../errors.js";

export interface RandomPortOptions {
  minPort?: number;
  maxPort?: number;
  maxTries?: number;
}

/**
 * pyzmq's bind_to_random_port: tries random ports in [minPort, maxPort) on the given
 * address (e.g. "tcp://127.0.0.1") and returns the first that binds.
 */
export async function bindToRandomPort(
  socket: { bind(address: string): Promise<void> },
  address: string,
  { minPort = 49152, maxPort = 65536, maxTries = 100 }: RandomPortOptions = {},
): Promise<number> {
  if (!(minPort >= 1 && maxPort > minPort && maxPort <= 65536 && maxTries >= 1)) {
    throw zmqError("EINVAL", "bindToRandomPort: need 1 <= minPort < maxPort <= 65536 and maxTries >= 1");
  }
  for (let i = 0; i < maxTries; i++) {
    const port = minPort + Math.floor(Math.random() * (maxPort - minPort));
    try {
      await socket.bind(`${address}:${port}`);
      return port;
    } catch (e) {
      if (isZmqError(e, "EADDRINUSE") || isZmqError(e, "EACCES")) continue;
      throw e;
    }
  }
  throw zmqError("EADDRINUSE", `Could not bind socket to random port after ${maxTries} tries`, address);
}
