import { type ChildProcess, execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { NetProbes } from './net-probes.ts';

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
  // Created straight inside the lab's namespaces, so every lab can use the same names (at most 15
  // bytes); network-bandwidth's example names `fl-lab-a`, a device no real host has.
  const devA = 'fl-lab-a';
  const devB = 'fl-lab-b';
  const net = (process.pid + n) % 250;
  const addrA = `10.250.${net}.1`;
  const addrB = `10.250.${net}.2`;
  const nsExec = (ns: string, argv: string[]) => ['netns', 'exec', ns, ...argv];
  const enter = (ns: string) => ['ip', ...nsExec(ns, [])];
  const probes = new NetProbes();

  const cleanup = async () => {
    await probes.killAll();
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

  return {
    nsA,
    nsB,
    addrA,
    addrB,
    devA,
    devB,
    startServer: (ns, args) => probes.startServer(enter(ns), args),
    probe: (ns, args, timeoutMs) => probes.probe(enter(ns), args, timeoutMs),
    report: (child, timeoutMs) => probes.report(child, timeoutMs),
    exec(ns, argv) {
      return execFileSync('ip', nsExec(ns, argv), { encoding: 'utf8' });
    },
    cleanup,
  };
}
