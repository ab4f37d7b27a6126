import { spawn } from 'node:child_process';

/** A child process driven one line at a time: each line written to its stdin gets one line back. */
export interface LineChild {
  /** The child's pid (undefined if it could not start). */
  readonly pid: number | undefined;
  /** Writes `line` and resolves with the child's next line; kills the child after `timeoutMs`. */
  ask(line: string, timeoutMs: number): Promise<string>;
  /** Ends the child's stdin and waits for it to exit (SIGKILL after 5 s). */
  close(): Promise<void>;
}

/** Starts `cmd args` with piped stdio. `name` prefixes its errors, which carry its stderr. */
export function startLineChild(name: string, cmd: string, args: readonly string[]): LineChild {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let failed: Error | undefined;
  let wake: (() => void) | undefined;
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  child.once('error', (err) => {
    failed = err; // e.g. the binary or taskset is missing
    wake?.();
  });
  // A child that died is reported by ask(); writing to it must not throw on its own.
  child.stdin.on('error', () => undefined);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  void exited.then(() => wake?.());
  const lines: string[] = [];
  let pending = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    pending += d;
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      lines.push(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
    wake?.();
  });

  async function nextLine(timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (lines.length === 0) {
      if (failed) throw new Error(`${name} could not run: ${failed.message}`);
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}): ${stderr}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        child.kill('SIGKILL');
        throw new Error(`${name} gave no answer within ${timeoutMs} ms: ${stderr}`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wake = undefined;
    }
    return lines.shift()!;
  }

  return {
    pid: child.pid,
    ask(line, timeoutMs) {
      child.stdin.write(`${line}\n`);
      return nextLine(timeoutMs);
    },
    async close() {
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      // Bounded even if the process never started (then there is nothing to wait for).
      await Promise.race([exited, new Promise((r) => setTimeout(r, 6_000).unref())]);
      clearTimeout(timer);
    },
  };
}
