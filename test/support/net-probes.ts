import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * Test support: `node net-probe.ts <args>` children run inside a network namespace (the argv
 * prefix that enters it comes first), with their output lines queued so a test can read them in
 * order. `killAll()` kills, by pid, every probe these started that still runs.
 */
export class NetProbes {
  private readonly lines = new Map<ChildProcess, { queue: string[]; stderr: string; wake?: () => void }>();

  /** Starts a probe under `enter` (e.g. `['ip', 'netns', 'exec', NS]`). */
  spawn(enter: readonly string[], args: string[]): ChildProcess {
    const argv = [...enter, process.execPath, PROBE, ...args];
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    const state: { queue: string[]; stderr: string; wake?: () => void } = { queue: [], stderr: '' };
    this.lines.set(child, state);
    child.stderr!.on('data', (d) => {
      state.stderr += d;
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      state.queue.push(line);
      state.wake?.();
    });
    child.once('exit', () => state.wake?.());
    return child;
  }

  /** The next line `child` printed, waiting up to `timeoutMs`; rejects when it exits without one. */
  nextLine(child: ChildProcess, timeoutMs: number, what: string): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const state = this.lines.get(child)!;
      const timer = setTimeout(() => {
        state.wake = undefined;
        reject(new Error(`${what}: no output within ${timeoutMs} ms; stderr: ${state.stderr}`));
      }, timeoutMs);
      const check = () => {
        const line = state.queue.shift();
        if (line === undefined && child.exitCode === null && child.signalCode === null) return;
        clearTimeout(timer);
        state.wake = undefined;
        if (line !== undefined) resolve(line);
        else reject(new Error(`${what}: exited ${child.exitCode} without output; stderr: ${state.stderr}`));
      };
      state.wake = check;
      check();
    });
  }

  /** Starts a server probe; resolves once it printed `listening`. */
  async startServer(enter: readonly string[], args: string[]): Promise<ChildProcess> {
    const child = this.spawn(enter, args);
    const line = await this.nextLine(child, 10_000, `net-probe ${args.join(' ')}`);
    if (line !== 'listening') throw new Error(`net-probe ${args[0]} printed ${line}`);
    return child;
  }

  /** Runs a probe to its first line (bounded by `timeoutMs`) and parses it as JSON. */
  async probe<T>(enter: readonly string[], args: string[], timeoutMs = 20_000): Promise<T> {
    const child = this.spawn(enter, args);
    try {
      return JSON.parse(await this.nextLine(child, timeoutMs, `net-probe ${args.join(' ')}`));
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }

  /** Asks a probe that waits on stdin (udp-sink) for its result. */
  async report<T>(child: ChildProcess, timeoutMs = 10_000): Promise<T> {
    child.stdin!.write('report\n');
    return JSON.parse(await this.nextLine(child, timeoutMs, 'net-probe report'));
  }

  /** Kills (SIGKILL, by pid) every probe still running and waits for each to exit. */
  async killAll(): Promise<void> {
    for (const child of this.lines.keys()) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    }
    this.lines.clear();
  }
}

const PROBE = join(import.meta.dirname, 'net-probe.ts');
