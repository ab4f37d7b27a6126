import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * Test support: two network namespaces the test owns, joined by a veth pair (`devA` in `nsA`,
 * `devB` in `nsB`) on a private /30 from 10.250.0.0/16. `nsA` has a default route through `devA`,
 * so a fault that picks the default-route device picks `devA` there. `cleanup()` kills the
 * processes the lab started (by pid) and deletes both namespaces (which deletes the veth pair).
 */
export interface NetnsLab {
  nsA: string;
  nsB: string;
  addrA: string;
  addrB: string;
  devA: string;
  devB: string;
  /** Starts `node net-probe.ts <args>` in `ns`; resolves once it printed `listening`. */
  startServer(ns: string, args: string[]): Promise<ChildProcess>;
  /** Runs `node net-probe.ts <args>` in `ns` to its end (bounded by `timeoutMs`) and parses its JSON line. */
  probe<T = Record<string, unknown>>(ns: string, args: string[], timeoutMs?: number): Promise<T>;
  /** Asks a probe that waits on stdin (udp-sink) for its result: writes a line and parses the JSON line it prints. */
  report<T = Record<string, unknown>>(child: ChildProcess, timeoutMs?: number): Promise<T>;
  /** Runs a command in `ns` and returns its stdout (throws on a non-zero exit). */
  exec(ns: string, argv: string[]): string;
  cleanup(): Promise<void>;
}

const PREFIX = 'fl-lab-';
const PROBE = join(import.meta.dirname, 'net-probe.ts');
let count = 0;

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Labs of test processes that died without cleaning up (`fl-lab-<pid>-...` whose pid is gone). */
function deleteStaleLabs(): void {
  let names: string[] = [];
  try {
    names = readdirSync('/var/run/netns');
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^fl-lab-(\d+)-/.exec(name);
    if (m && !existsSync(`/proc/${m[1]}`)) {
      try {
        ip(['netns', 'del', name]);
      } catch {
        // raced with another test process deleting it
      }
    }
  }
}

/** Creates the lab; on a failure halfway it deletes what it made and rethrows. */
export function createNetnsLab(): NetnsLab {
  deleteStaleLabs();
  const n = count++;
  const base = `${PREFIX}${process.pid}-${n}`;
  const nsA = `${base}-a`;
  const nsB = `${base}-b`;
  // Interface names: at most 15 bytes; they live only inside the lab's namespaces.
  const devA = `fla${n}`;
  const devB = `flb${n}`;
  const net = (process.pid + n) % 250;
  const addrA = `10.250.${net}.1`;
  const addrB = `10.250.${net}.2`;
  const children = new Set<ChildProcess>();
  const nsExec = (ns: string, argv: string[]) => ['netns', 'exec', ns, ...argv];

  const cleanup = async () => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    }
    children.clear();
    for (const ns of [nsA, nsB]) {
      if (existsSync(`/var/run/netns/${ns}`)) ip(['netns', 'del', ns]);
    }
  };

  try {
    ip(['netns', 'add', nsA]);
    ip(['netns', 'add', nsB]);
    ip(['link', 'add', devA, 'netns', nsA, 'type', 'veth', 'peer', 'name', devB, 'netns', nsB]);
    for (const [ns, dev, addr] of [
      [nsA, devA, addrA],
      [nsB, devB, addrB],
    ] as const) {
      ip(nsExec(ns, ['ip', 'link', 'set', 'lo', 'up']));
      ip(nsExec(ns, ['ip', 'addr', 'add', `${addr}/30`, 'dev', dev]));
      ip(nsExec(ns, ['ip', 'link', 'set', dev, 'up']));
    }
    ip(nsExec(nsA, ['ip', 'route', 'add', 'default', 'dev', devA]));
  } catch (err) {
    for (const ns of [nsA, nsB]) if (existsSync(`/var/run/netns/${ns}`)) ip(['netns', 'del', ns]);
    throw err;
  }

  /** Lines each probe printed and not yet read, and who waits for the next one. */
  const lines = new Map<ChildProcess, { queue: string[]; stderr: string; wake?: () => void }>();

  const spawnProbe = (ns: string, args: string[]) => {
    const child = spawn('ip', nsExec(ns, [process.execPath, PROBE, ...args]), {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const state: { queue: string[]; stderr: string; wake?: () => void } = { queue: [], stderr: '' };
    lines.set(child, state);
    children.add(child);
    child.stderr!.on('data', (d) => {
      state.stderr += d;
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      state.queue.push(line);
      state.wake?.();
    });
    child.once('exit', () => {
      children.delete(child);
      state.wake?.();
    });
    return child;
  };

  const nextLine = (child: ChildProcess, timeoutMs: number, what: string) =>
    new Promise<string>((resolve, reject) => {
      const state = lines.get(child)!;
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

  return {
    nsA,
    nsB,
    addrA,
    addrB,
    devA,
    devB,
    async startServer(ns, args) {
      const child = spawnProbe(ns, args);
      const line = await nextLine(child, 10_000, `net-probe ${args.join(' ')}`);
      if (line !== 'listening') throw new Error(`net-probe ${args[0]} printed ${line}`);
      return child;
    },
    async probe(ns, args, timeoutMs = 20_000) {
      const child = spawnProbe(ns, args);
      try {
        return JSON.parse(await nextLine(child, timeoutMs, `net-probe ${args.join(' ')}`));
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    },
    async report(child, timeoutMs = 10_000) {
      child.stdin!.write('report\n');
      return JSON.parse(await nextLine(child, timeoutMs, 'net-probe report'));
    },
    exec(ns, argv) {
      return execFileSync('ip', nsExec(ns, argv), { encoding: 'utf8' });
    },
    cleanup,
  };
}
