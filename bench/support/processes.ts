import { type ChildProcess, type SpawnOptions, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';

let tasksetChecked: boolean | undefined;

/** True when `taskset` (util-linux) can pin processes here. */
export function canPin(): boolean {
  tasksetChecked ??= spawnSync('taskset', ['-c', '0', 'true']).status === 0;
  return tasksetChecked;
}

/** Prefixes a command with `taskset -c CPU` when a CPU is given and taskset works. */
export function pinned(cpu: number | undefined, cmd: string, args: readonly string[]): [string, string[]] {
  if (cpu === undefined || !canPin()) return [cmd, [...args]];
  // taskset execs the command, so the pid we get is the pinned process itself.
  return ['taskset', ['-c', String(cpu), cmd, ...args]];
}

/** A free loopback port (bind to 0, read, close). Small race; fine for a bench on a quiet machine. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** Resolves once a TCP connect to 127.0.0.1:port succeeds; rejects after `timeoutMs` (default 10 000). */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Resident set size of a process, bytes (from /proc/PID/status). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/**
 * CPU time a process has used, s (user + system, its threads included, from /proc/PID/stat).
 * Linux reports it in clock ticks of USER_HZ, which is 100 on every architecture Node runs on here.
 */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name and state.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Every child process a bench started, so that all of them are killed (by pid) on every way
 * out: normal end, an exception, or Ctrl-C.
 */
/** Stops one child we started, by its pid: SIGTERM, then SIGKILL after 3 s; resolves when it exited. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}

export class ChildGroup {
  private readonly children = new Set<ChildProcess>();
  private readonly cleanups: (() => void)[] = [];
  private readonly onSignal = (): void => {
    void this.stopAll().finally(() => process.exit(130));
  };

  constructor() {
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
  }

  /** Spawns `cmd args`, pinned to `cpu` when given; its stderr goes to ours so failures are visible. */
  spawn(
    cmd: string,
    args: readonly string[],
    opts: SpawnOptions & { cpu?: number; name: string },
  ): ChildProcess {
    const [c, a] = pinned(opts.cpu, cmd, args);
    const child = spawn(c, a, { stdio: ['ignore', 'ignore', 'inherit'], ...opts });
    this.children.add(child);
    child.once('exit', (code, signal) => {
      this.children.delete(child);
      if (!this.stopping && code !== 0 && signal !== 'SIGTERM' && signal !== 'SIGKILL') {
        console.error(`bench: ${opts.name} (pid ${child.pid}) exited early: code ${code} signal ${signal}`);
      }
    });
    return child;
  }

  /** Runs `fn` when the group stops (e.g. removing a temp dir). */
  onStop(fn: () => void): void {
    this.cleanups.push(fn);
  }

  private stopping = false;

  /** SIGTERM to each child by pid, SIGKILL after 3 s, then the cleanups. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    await Promise.all([...this.children].map(stopChild));
    for (const fn of this.cleanups.splice(0)) {
      try {
        fn();
      } catch (err) {
        console.error('bench: cleanup failed:', err);
      }
    }
  }
}

/** Pins a running process (all its threads) to one CPU; no-op when `cpu` is undefined. */
function pinPid(pid: number, cpu: number | undefined): void {
  if (cpu === undefined || !canPin()) return;
  spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
}

/** Pins this process (all its threads) to one CPU, for benches whose load generator runs in-process. */
export function pinSelf(cpu: number | undefined): void {
  pinPid(process.pid, cpu);
}

/** A process and every process under it (nginx's and HAProxy's workers), from /proc. */
function processTree(pid: number): number[] {
  const out = [pid];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out; // exited meanwhile
  }
  for (const tid of tasks) {
    let children = '';
    try {
      children = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const c of children.split(' ').filter(Boolean)) out.push(...processTree(Number(c)));
  }
  return out;
}

/** Moves a running process we started, and every process under it, onto one CPU. */
export function repin(pid: number, cpu: number | undefined): void {
  for (const p of processTree(pid)) pinPid(p, cpu);
}
