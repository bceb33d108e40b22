import type { ChildProcess } from "node:child_process";

/**
 * Ends a peer child process: `ask` it to exit, give it 3 s, then SIGKILL it and give
 * that 2 s; finally drop its output pipes. Every wait is bounded and unref'd.
 */
export async function endChild(child: ChildProcess, exited: Promise<unknown>, ask: () => void): Promise<void> {
  try {
    ask();
  } catch {
    // its stdin is already gone
  }
  const graceful = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(r, 3000, false).unref())]);
  if (!graceful) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000).unref())]);
  }
}
