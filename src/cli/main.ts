#!/usr/bin/env node
/**
 * zmq-ts: a command line for poking at ZeroMQ sockets, built on zmq-ts's public API.
 *
 *   zmq-ts <command> [options]      zmq-ts <command> --help      zmq-ts --help
 *
 * Exit codes: 0 ok, 1 usage error, 2 timeout, 3 connection or protocol error.
 */
import { run } from "./run.js";
import { lingerState } from "./common.js";

run(process.argv.slice(2)).then(
  (code) => {
    // Closed sockets may still be flushing (within --linger): let the process end by
    // itself, and force it only if something still holds it well after that.
    process.exitCode = code;
    setTimeout(() => process.exit(code), lingerState.max + 2000).unref();
  },
  (err: unknown) => {
    process.stderr.write(`zmq-ts: internal error: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(3);
  },
);
