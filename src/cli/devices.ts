/** proxy, queue, monitored-queue. */
import { Proxy, MonitoredQueue, type DeviceStatistics } from "../index.js";
import {
  Cleanup, EXIT_HELP, EXIT_OK, GLOBAL_HELP, SECURITY_HELP, SECURITY_OPTIONS, guarded, info, interrupted, intOption, out,
  openSocket, parse, printJson, print, usage, type Values, type OpenedSocket,
} from "./common.js";
import type { Command } from "./messaging.js";

/** "@ep" or "ep" binds, ">ep" connects (czmq's convention). */
function endpoints(list: string[] | undefined, flag: string, required: boolean): { binds: string[]; connects: string[] } {
  const binds: string[] = [];
  const connects: string[] = [];
  for (const raw of list ?? []) {
    if (raw.startsWith(">")) connects.push(raw.slice(1));
    else binds.push(raw.startsWith("@") ? raw.slice(1) : raw);
  }
  if (required && binds.length + connects.length === 0) throw usage(`${flag} ENDPOINT is required`);
  return { binds, connects };
}

const DEVICES: Record<string, [string, string]> = {
  queue: ["router", "dealer"],
  forwarder: ["xsub", "xpub"],
  streamer: ["pull", "push"],
};

const SIDE_OPTIONS = {
  ...SECURITY_OPTIONS,
  frontend: { type: "string" as const, short: "f" as const, multiple: true },
  backend: { type: "string" as const, short: "b" as const, multiple: true },
  "frontend-type": { type: "string" as const },
  "backend-type": { type: "string" as const },
  duration: { type: "string" as const, short: "d" as const },
  stats: { type: "string" as const },
  linger: { type: "string" as const },
};

const SIDE_HELP = `Endpoints ("tcp://*:5559" or "@tcp://*:5559" binds, ">tcp://host:5559" connects; repeatable):
  -f, --frontend ENDPOINT    the front end (the clients' side)
  -b, --backend ENDPOINT     the back end (the workers' side)
      --frontend-type TYPE   override the front end's socket type
      --backend-type TYPE    override the back end's socket type
  -d, --duration MS          stop after MS (default: run until interrupted)
      --stats MS             print message/byte counts on stderr every MS (always at the end)
      --linger MS            close's flush time (default 1000)
${SECURITY_HELP}
  Security options apply to the front end.`;

function printStats(stats: DeviceStatistics, final: boolean): void {
  const f = stats.frontEnd;
  const b = stats.backEnd;
  const text = `${final ? "total" : "stats"}: front end in ${f.messagesIn} frames/${f.bytesIn} B, out ${f.messagesOut} frames/${f.bytesOut} B; `
    + `back end in ${b.messagesIn} frames/${b.bytesIn} B, out ${b.messagesOut} frames/${b.bytesOut} B`;
  info("stats", text, { final, frontEnd: f, backEnd: b });
}

interface Device {
  run(): Promise<void>;
  terminate(): void;
  statistics(): DeviceStatistics;
}

/** Runs the device until --duration, a signal, or its failure; prints its statistics. */
async function runDevice(v: Values, device: Device, sockets: OpenedSocket[]): Promise<number> {
  const duration = intOption(v, "duration");
  const every = intOption(v, "stats", { min: 1 });
  const sig = interrupted();
  const done = device.run();
  done.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const stop = duration === undefined ? new Promise<never>(() => {}) : new Promise<"signal">((r) => (timer = setTimeout(() => r("signal"), duration)));
  const ticker = every === undefined ? undefined : setInterval(() => printStats(device.statistics(), false), every);
  info("running", "device running", {});
  try {
    await guarded(Promise.race([done, stop]), Promise.race(sockets.map((s) => s.failure)), sig.promise);
    return EXIT_OK;
  } finally {
    clearTimeout(timer);
    clearInterval(ticker);
    sig.dispose();
    printStats(device.statistics(), true);
    try {
      device.terminate();
    } catch {
      // already terminated
    }
  }
}

function proxyCommand(name: string, fixed: keyof typeof DEVICES | null): Command {
  const deviceLine = fixed === null
    ? `      --device KIND          queue (router/dealer, default), forwarder (xsub/xpub), streamer (pull/push)\n      --capture ENDPOINT     a pub socket that gets a copy of every message (bound unless ">")\n`
    : `      --capture ENDPOINT     a pub socket that gets a copy of every message (bound unless ">")\n`;
  return {
    summary: fixed === null ? "run a proxy device between two endpoints" : `run a ${fixed} device (router front end, dealer back end)`,
    help: `Usage: zmq-ts ${name} [options]

${fixed === null ? "Forwards messages between a front end and a back end, as zmq_proxy." : "A request/reply broker: clients (req/dealer) connect to the router front end,\nworkers (rep/dealer) to the dealer back end."}

${SIDE_HELP}
${deviceLine}${GLOBAL_HELP}
${EXIT_HELP}

Example:
  zmq-ts ${name} --frontend tcp://*:5559 --backend tcp://*:5560${fixed === null ? " --device streamer" : ""}`,
    run: async (args) => {
      const cleanup = new Cleanup();
      try {
        const { values: v, positionals } = parse(args, {
          ...SIDE_OPTIONS, capture: { type: "string" }, ...(fixed === null ? { device: { type: "string" } } : {}),
        });
        if (positionals.length > 0) throw usage(`unexpected argument ${JSON.stringify(positionals[0])}`);
        const kind = (fixed ?? (v.device as string | undefined) ?? "queue").toLowerCase();
        const types = DEVICES[kind];
        if (!types) throw usage(`unknown device ${JSON.stringify(kind)}; one of: ${Object.keys(DEVICES).join(" ")}`);
        const fe = endpoints(v.frontend as string[] | undefined, "--frontend", true);
        const be = endpoints(v.backend as string[] | undefined, "--backend", true);
        const front = await openSocket(v, cleanup, { fixedType: (v["frontend-type"] as string | undefined) ?? types[0], ...fe, label: "frontend" });
        const back = await openSocket(plain(v), cleanup, { fixedType: (v["backend-type"] as string | undefined) ?? types[1], ...be, label: "backend" });
        const sockets = [front, back];
        let capture;
        if (v.capture !== undefined) {
          const c = await openSocket(plain(v), cleanup, { fixedType: "pub", ...endpoints([v.capture as string], "--capture", true), label: "capture" });
          sockets.push(c);
          capture = c.socket;
        }
        const proxy = new Proxy(front.socket, back.socket, capture ? { capture } : {});
        return await runDevice(v, proxy, sockets);
      } finally {
        await cleanup.run();
      }
    },
  };
}

/** The values without the security flags (they apply to the front end only). */
function plain(v: Values): Values {
  const copy: Values = { ...v };
  for (const k of Object.keys(SECURITY_OPTIONS)) delete copy[k];
  return copy;
}

export const proxy = proxyCommand("proxy", null);
export const queue = proxyCommand("queue", "queue");

export const monitoredQueue: Command = {
  summary: "a queue whose traffic is copied to a monitor (pub) socket",
  help: `Usage: zmq-ts monitored-queue [options]

pyzmq's monitored_queue: messages from the front end go to the back end and back, and
each is also sent to the monitor socket with a first frame --in-prefix (front end to back
end) or --out-prefix (back end to front end). Watch it with:
  zmq-ts sub --connect <monitor endpoint>

${SIDE_HELP}
  -m, --monitor ENDPOINT     the monitor socket (required)
      --monitor-type TYPE    its type (default pub)
      --in-prefix TEXT       default "in"
      --out-prefix TEXT      default "out"
  (default types: router front end, dealer back end)
${GLOBAL_HELP}
${EXIT_HELP}

Example:
  zmq-ts monitored-queue -f tcp://*:5559 -b tcp://*:5560 -m tcp://*:5561`,
  run: async (args) => {
    const cleanup = new Cleanup();
    try {
      const { values: v, positionals } = parse(args, {
        ...SIDE_OPTIONS,
        monitor: { type: "string", short: "m" },
        "monitor-type": { type: "string" },
        "in-prefix": { type: "string" },
        "out-prefix": { type: "string" },
      });
      if (positionals.length > 0) throw usage(`unexpected argument ${JSON.stringify(positionals[0])}`);
      const fe = endpoints(v.frontend as string[] | undefined, "--frontend", true);
      const be = endpoints(v.backend as string[] | undefined, "--backend", true);
      if (v.monitor === undefined) throw usage("--monitor ENDPOINT is required");
      const me = endpoints([v.monitor as string], "--monitor", true);
      const front = await openSocket(v, cleanup, { fixedType: (v["frontend-type"] as string | undefined) ?? "router", ...fe, label: "frontend" });
      const back = await openSocket(plain(v), cleanup, { fixedType: (v["backend-type"] as string | undefined) ?? "dealer", ...be, label: "backend" });
      const mon = await openSocket(plain(v), cleanup, { fixedType: (v["monitor-type"] as string | undefined) ?? "pub", ...me, label: "monitor" });
      const device = new MonitoredQueue(front.socket, back.socket, mon.socket, {
        inPrefix: (v["in-prefix"] as string | undefined) ?? "in",
        outPrefix: (v["out-prefix"] as string | undefined) ?? "out",
      });
      return await runDevice(v, device, [front, back, mon]);
    } finally {
      await cleanup.run();
    }
  },
};

export { out, print, printJson };
