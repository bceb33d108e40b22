/** send, recv, pub, sub, req, rep. */
import type { Socket, Subscriber } from "../index.js";
import {
  Cleanup, CliError, DATA_HELP, DATA_OPTIONS, ENDPOINT_HELP, ENDPOINT_OPTIONS, EXIT_HELP, EXIT_OK, EXIT_TIMEOUT, GLOBAL_HELP,
  LOOP_HELP, LOOP_OPTIONS, Progress, SECURITY_HELP, SECURITY_OPTIONS, byteLength, guarded, info, intOption, interrupted,
  messageFrames, numberOption, openSocket, parse, printMessage, usage, type Values,
} from "./common.js";

export interface Command {
  summary: string;
  help: string;
  run(args: string[]): Promise<number>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const isEagain = (e: unknown) => (e as { code?: unknown } | null)?.code === "EAGAIN";

function outputOpts(v: Values): { hex: boolean; separator: string } {
  return { hex: Boolean(v.hex), separator: (v.separator as string | undefined) ?? "\t" };
}

function subscribe(socket: Socket, v: Values): void {
  const topics = (v.topic as string[] | undefined) ?? [];
  const sub = socket as Subscriber;
  if (typeof sub.subscribe !== "function") {
    if (topics.length > 0) throw usage("--topic needs a sub socket");
    return;
  }
  if (topics.length === 0) sub.subscribe();
  else sub.subscribe(...topics);
}

const timeoutMessage = (ms: number, what: string) => new CliError(EXIT_TIMEOUT, `timed out after ${ms} ms waiting for ${what}`);

// ---- receiving loop (recv, sub, rep) --------------------------------------------------------

interface ReceiveLoop {
  v: Values;
  socket: Socket;
  failure: Promise<never>;
  /** After each message (rep replies here). */
  after?: (frames: Buffer[]) => Promise<void>;
}

async function receiveLoop({ v, socket, failure, after }: ReceiveLoop): Promise<number> {
  const count = intOption(v, "count", { min: 1 });
  const timeout = intOption(v, "timeout");
  const progress = new Progress("received", Boolean(v.progress) || (count ?? 0) >= 10000, count);
  const sig = interrupted();
  const opts = outputOpts(v);
  try {
    while (count === undefined || progress.count < count) {
      let frames: Buffer[] | "signal";
      try {
        frames = await guarded(socket.receive(), failure, sig.promise);
      } catch (e) {
        if (isEagain(e) && timeout !== undefined) {
          // Without --count, a quiet spell after some messages is the normal end.
          if (count === undefined && progress.count > 0) return EXIT_OK;
          throw timeoutMessage(timeout, count === undefined ? "a message" : `message ${progress.count + 1} of ${count}`);
        }
        throw e;
      }
      if (frames === "signal") return EXIT_OK;
      progress.count++;
      progress.bytes += byteLength(frames);
      printMessage(frames, opts);
      if (after) {
        const r = await guarded(after(frames), failure, sig.promise);
        if (r === "signal") return EXIT_OK;
      }
    }
    return EXIT_OK;
  } finally {
    progress.stop(true);
    sig.dispose();
  }
}

// ---- sending loop (send, pub, req) -----------------------------------------------------------

interface SendLoop {
  v: Values;
  socket: Socket;
  failure: Promise<never>;
  frames: Buffer[];
  defaultCount: number | undefined;
  defaultInterval: number;
  /** After each send (req waits for the reply here). */
  after?: () => Promise<void>;
}

async function sendLoop({ v, socket, failure, frames, defaultCount, defaultInterval, after }: SendLoop): Promise<number> {
  const count = v.count === undefined ? defaultCount : intOption(v, "count", { min: 1 });
  const interval = numberOption(v, "interval") ?? defaultInterval;
  const delay = numberOption(v, "delay") ?? 0;
  const timeout = intOption(v, "timeout");
  const progress = new Progress("sent", Boolean(v.progress) || (count ?? 0) >= 10000, count);
  const sig = interrupted();
  const size = byteLength(frames);
  try {
    if (delay > 0 && (await guarded(sleep(delay), failure, sig.promise)) === "signal") return EXIT_OK;
    while (count === undefined || progress.count < count) {
      if (progress.count > 0 && interval > 0) {
        if ((await guarded(sleep(interval), failure, sig.promise)) === "signal") return EXIT_OK;
      }
      try {
        if ((await guarded(socket.send(frames), failure, sig.promise)) === "signal") return EXIT_OK;
      } catch (e) {
        if (isEagain(e) && timeout !== undefined) throw timeoutMessage(timeout, "a peer to send to");
        throw e;
      }
      progress.count++;
      progress.bytes += size;
      if (after && (await guarded(after(), failure, sig.promise)) === "signal") return EXIT_OK;
    }
    return EXIT_OK;
  } finally {
    progress.stop(true);
    sig.dispose();
  }
}

async function receiveReply(socket: Socket, v: Values): Promise<void> {
  const timeout = intOption(v, "timeout");
  try {
    printMessage(await socket.receive(), outputOpts(v));
  } catch (e) {
    if (isEagain(e) && timeout !== undefined) throw timeoutMessage(timeout, "the reply");
    throw e;
  }
}

function timeouts(v: Values, send: boolean, receive: boolean): Record<string, unknown> {
  const timeout = intOption(v, "timeout");
  if (timeout === undefined) return {};
  return { ...(send ? { sendTimeout: timeout } : {}), ...(receive ? { receiveTimeout: timeout } : {}) };
}

async function withCleanup(fn: (cleanup: Cleanup) => Promise<number>): Promise<number> {
  const cleanup = new Cleanup();
  try {
    return await fn(cleanup);
  } finally {
    await cleanup.run();
  }
}

// ---- the commands -----------------------------------------------------------------------------

const SEND_OPTIONS = {
  ...ENDPOINT_OPTIONS, ...SECURITY_OPTIONS, ...DATA_OPTIONS, ...LOOP_OPTIONS,
  interval: { type: "string" as const, short: "i" as const },
  delay: { type: "string" as const },
};
const RECV_OPTIONS = {
  ...ENDPOINT_OPTIONS, ...SECURITY_OPTIONS, ...LOOP_OPTIONS,
  hex: { type: "boolean" as const, short: "x" as const },
  separator: { type: "string" as const, short: "s" as const },
  topic: { type: "string" as const, multiple: true },
};

export const send: Command = {
  summary: "send a message (any socket type; default push)",
  help: `Usage: zmq-ts send [options] [DATA...]

Sends one message (or --count of them) and exits once it is flushed (within --linger).
A req socket prints each reply; a router needs the peer's routing id as the first frame.

${ENDPOINT_HELP}
  (default --type push)
${DATA_HELP}
${LOOP_HELP.replace("stop after N messages", "send the message N times (default 1)").replace("give up waiting after MS milliseconds (exit 2)", "give up when no peer takes a message (or no reply comes) within MS (exit 2)")}
  -i, --interval MS          wait MS between messages (default 0)
      --delay MS             wait MS before the first message (lets subscribers join)
${SECURITY_HELP}
${GLOBAL_HELP}
${EXIT_HELP}

Examples:
  zmq-ts send --connect tcp://127.0.0.1:5555 hello
  zmq-ts send -t dealer -c tcp://127.0.0.1:5555 --part header --part body
  zmq-ts send -c tcp://127.0.0.1:5555 --hex "deadbeef" --count 100`,
  run: (args) => withCleanup(async (cleanup) => {
    const { values: v, positionals } = parse(args, SEND_OPTIONS);
    const frames = messageFrames(positionals, v);
    if (frames.length === 0) throw usage("nothing to send: give DATA, --part or --file");
    const type = ((v.type as string | undefined) ?? "push").toLowerCase();
    if (type === "sub" || type === "pull") throw usage(`a ${type} socket cannot send; use recv`);
    if (type === "rep") throw usage("a rep socket must receive first; use rep");
    const { socket, failure } = await openSocket(v, cleanup, {
      defaultType: "push",
      // Messages wait for a connected peer (ZMQ_IMMEDIATE) rather than sit in the queue of a connection that never comes.
      socketOptions: { immediate: true, ...timeouts(v, true, type === "req") },
    });
    return sendLoop({
      v, socket, failure, frames, defaultCount: 1, defaultInterval: 0,
      after: type === "req" ? () => receiveReply(socket, v) : undefined,
    });
  }),
};

export const recv: Command = {
  summary: "receive and print messages (any socket type; default pull)",
  help: `Usage: zmq-ts recv [options]

Prints each message received: its frames joined by --separator (TAB), or with --json
one line {"type":"message","frames":[...],"encoding":"utf8"|"hex"} (hex when a frame is
not printable UTF-8, or with --hex). A rep socket echoes each message back.

${ENDPOINT_HELP}
  (default --type pull)
${LOOP_HELP.replace("give up waiting after MS milliseconds (exit 2)", "give up when no message comes within MS: exit 2 if fewer than\n                             --count arrived (without --count: if none did), else 0")}
  -x, --hex                  print frames as hex
  -s, --separator SEP        join frames with SEP (default TAB)
      --topic PREFIX         sub socket: subscribe to PREFIX (repeatable; default everything)
${SECURITY_HELP}
${GLOBAL_HELP}
${EXIT_HELP}

Examples:
  zmq-ts recv --bind tcp://*:5555
  zmq-ts recv -t sub -c tcp://127.0.0.1:5556 --topic weather --json --count 10`,
  run: (args) => withCleanup(async (cleanup) => {
    const { values: v, positionals } = parse(args, RECV_OPTIONS);
    if (positionals.length > 0) throw usage(`unexpected argument ${JSON.stringify(positionals[0])}`);
    const type = ((v.type as string | undefined) ?? "pull").toLowerCase();
    if (type === "push" || type === "pub") throw usage(`a ${type} socket cannot receive; use send`);
    if (type === "req") throw usage("a req socket must send first; use req");
    const { socket, failure } = await openSocket(v, cleanup, {
      defaultType: "pull", socketOptions: timeouts(v, type === "rep", true),
      beforeAttach: (s) => subscribe(s, v),
    });
    return receiveLoop({ v, socket, failure, after: type === "rep" ? (frames) => socket.send(frames) : undefined });
  }),
};

export const pub: Command = {
  summary: "publish TOPIC [DATA...] repeatedly",
  help: `Usage: zmq-ts pub [options] TOPIC [DATA...]

Publishes the message [TOPIC, DATA...] (one frame each; --concat: one frame TOPIC+DATA)
every --interval ms, --count times (default: until interrupted).

Options:
  -b, --bind ENDPOINT        bind (repeatable)
  -c, --connect ENDPOINT     connect (repeatable; e.g. to a forwarder's front end)
      --linger MS            how long close waits to flush (default 1000)
  -i, --interval MS          between messages (default 1000)
      --delay MS             before the first message
  -n, --count N              stop after N messages (default: never)
      --concat               topic and data in one frame
      --progress             report the rate on stderr every second
  -x, --hex                  TOPIC and DATA are hex
  -p, --part DATA            one more frame (repeatable)
  -s, --separator SEP        split DATA into frames at SEP
  -f, --file PATH            one more frame: the contents of PATH
${SECURITY_HELP}
${GLOBAL_HELP}
${EXIT_HELP}

Example:
  zmq-ts pub --bind tcp://*:5556 weather "sunny, 21C" --interval 500`,
  run: (args) => withCleanup(async (cleanup) => {
    const { values: v, positionals } = parse(args, {
      ...SEND_OPTIONS, concat: { type: "boolean" }, type: { type: "string", short: "t" },
    });
    if (v.type !== undefined && String(v.type).toLowerCase() !== "pub" && String(v.type).toLowerCase() !== "xpub") {
      throw usage("pub uses a pub (or xpub) socket");
    }
    if (positionals.length === 0) throw usage("pub needs a TOPIC");
    let frames = messageFrames(positionals, v);
    if (v.concat) frames = [Buffer.concat(frames)];
    const { socket, failure } = await openSocket(v, cleanup, { defaultType: "pub" });
    return sendLoop({ v, socket, failure, frames, defaultCount: undefined, defaultInterval: 1000 });
  }),
};

export const sub: Command = {
  summary: "subscribe and print messages",
  help: `Usage: zmq-ts sub [options]

A sub socket that prints what it receives (as recv does).

Options:
  -c, --connect ENDPOINT     connect (repeatable)
  -b, --bind ENDPOINT        bind (repeatable)
      --topic PREFIX         subscribe to PREFIX (repeatable; default: everything)
  -n, --count N              stop after N messages
  -T, --timeout MS           give up when no message comes within MS (exit 2 as recv)
  -x, --hex                  print frames as hex
  -s, --separator SEP        join frames with SEP (default TAB)
      --progress             report the rate on stderr every second
${SECURITY_HELP}
${GLOBAL_HELP}
${EXIT_HELP}

Example:
  zmq-ts sub --connect tcp://127.0.0.1:5556 --topic weather --count 5 --timeout 10000`,
  run: (args) => withCleanup(async (cleanup) => {
    const { values: v, positionals } = parse(args, RECV_OPTIONS);
    if (positionals.length > 0) throw usage(`unexpected argument ${JSON.stringify(positionals[0])}; subscribe with --topic`);
    if (v.type !== undefined && String(v.type).toLowerCase() !== "sub") throw usage("sub uses a sub socket");
    const { socket, failure } = await openSocket(v, cleanup, {
      fixedType: "sub", socketOptions: timeouts(v, false, true), beforeAttach: (s) => subscribe(s, v),
    });
    return receiveLoop({ v, socket, failure });
  }),
};

export const req: Command = {
  summary: "send a request, print the reply",
  help: `Usage: zmq-ts req [options] [DATA...]

Sends the request (--count times, one at a time) and prints each reply.

${ENDPOINT_HELP.replace(/ {2}-t, --type TYPE.*\n/, "")}
${DATA_HELP}
  -n, --count N              requests to make (default 1)
  -T, --timeout MS           give up when a reply takes longer than MS (exit 2)
  -i, --interval MS          wait MS between requests (default 0)
      --progress             report the rate on stderr every second
${SECURITY_HELP}
${GLOBAL_HELP}
${EXIT_HELP}

Example:
  zmq-ts req --connect tcp://127.0.0.1:5555 ping --timeout 2000`,
  run: (args) => withCleanup(async (cleanup) => {
    const { values: v, positionals } = parse(args, SEND_OPTIONS);
    if (v.type !== undefined && String(v.type).toLowerCase() !== "req") throw usage("req uses a req socket");
    const frames = messageFrames(positionals, v);
    if (frames.length === 0) throw usage("nothing to send: give DATA, --part or --file");
    const { socket, failure } = await openSocket(v, cleanup, { fixedType: "req", socketOptions: { immediate: true, ...timeouts(v, true, true) } });
    return sendLoop({ v, socket, failure, frames, defaultCount: 1, defaultInterval: 0, after: () => receiveReply(socket, v) });
  }),
};

export const rep: Command = {
  summary: "reply server: echo (or a fixed reply)",
  help: `Usage: zmq-ts rep [options] [REPLY...]

Prints each request and answers it: with the request itself (echo), or with REPLY
(frames as DATA in send) when given.

${ENDPOINT_HELP.replace(/ {2}-t, --type TYPE.*\n/, "")}
${DATA_HELP.replace("DATA...                    each positional argument is one frame", "REPLY...                   the reply, each positional argument one frame")}
  -n, --count N              stop after N requests (default: never)
  -T, --timeout MS           give up when no request comes within MS (exit 2 as recv)
      --progress             report the rate on stderr every second
${SECURITY_HELP}
${GLOBAL_HELP}
${EXIT_HELP}

Example:
  zmq-ts rep --bind tcp://*:5555 --count 1`,
  run: (args) => withCleanup(async (cleanup) => {
    const { values: v, positionals } = parse(args, SEND_OPTIONS);
    if (v.type !== undefined && String(v.type).toLowerCase() !== "rep") throw usage("rep uses a rep socket");
    const reply = messageFrames(positionals, v);
    const { socket, failure } = await openSocket(v, cleanup, { fixedType: "rep", socketOptions: timeouts(v, true, true) });
    return receiveLoop({ v, socket, failure, after: (frames) => socket.send(reply.length > 0 ? reply : frames) });
  }),
};

export { info };
