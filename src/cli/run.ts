/** The command table and dispatcher of the zmq-ts CLI (main.ts is the executable). */
import { version } from "../index.js";
import { EXIT_HELP, EXIT_OK, EXIT_USAGE, exitCodeFor, out, reportError } from "./common.js";
import { send, recv, pub, sub, req, rep, type Command } from "./messaging.js";
import { proxy, queue, monitoredQueue } from "./devices.js";
import { monitor, keygen, bench } from "./tools.js";
import { cluster, engine } from "./cluster.js";

export const commands: Record<string, Command> = {
  send, recv, pub, sub, req, rep, proxy, queue, "monitored-queue": monitoredQueue, monitor, keygen, bench, cluster, engine,
};

export function mainHelp(): string {
  const width = Math.max(...Object.keys(commands).map((k) => k.length));
  return `Usage: zmq-ts <command> [options]

ZeroMQ from the command line, on zmq-ts (ZMTP 3.1 in TypeScript, libzmq ${version} behaviour).

Commands:
${Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`).join("\n")}

Run "zmq-ts <command> --help" for a command's options. Everywhere:
  --json     one JSON object per line on stdout (messages: {"type":"message","frames":[...],"encoding":"utf8"|"hex"})
  --help     the command's help
${EXIT_HELP}

Examples:
  zmq-ts rep --bind tcp://*:5555 &
  zmq-ts req --connect tcp://127.0.0.1:5555 hello
  zmq-ts pub --bind tcp://*:5556 weather sunny --interval 500 &
  zmq-ts sub --connect tcp://127.0.0.1:5556 --topic weather --count 3
  zmq-ts keygen --cert ./certs server
  zmq-ts cluster start -n 4 --file cluster.json &
  zmq-ts engine --file cluster.json        # one more engine, from any machine that reaches the controller
  zmq-ts cluster stop --file cluster.json`;
}

/** Runs the CLI with these arguments; resolves to the exit code (never rejects for command errors). */
export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    if (name === "help" && rest[0] !== undefined && commands[rest[0]]) {
      process.stdout.write(commands[rest[0]]!.help + "\n");
      return EXIT_OK;
    }
    process.stdout.write(mainHelp() + "\n");
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === "--version" || name === "-V") {
    process.stdout.write(`zmq-ts (libzmq ${version} compatible)\n`);
    return EXIT_OK;
  }
  const command = commands[name];
  if (!command) {
    out.json = argv.includes("--json");
    reportError(new Error(`unknown command ${JSON.stringify(name)}; run "zmq-ts --help" for the list`), EXIT_USAGE);
    return EXIT_USAGE;
  }
  const dashdash = rest.indexOf("--");
  const own = dashdash < 0 ? rest : rest.slice(0, dashdash);
  if (own.includes("--help") || own.includes("-h")) {
    process.stdout.write(command.help + "\n");
    return EXIT_OK;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    const code = exitCodeFor(err);
    reportError(err, code);
    if (code === EXIT_USAGE && !out.json) process.stderr.write(`Run "zmq-ts ${name} --help" for usage.\n`);
    return code;
  }
}
