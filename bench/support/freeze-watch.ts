import { fileURLToPath } from 'node:url';
import { compileC } from './compile-c.ts';
import { startLineChild } from './line-child.ts';
import { pinned } from './processes.ts';

const SOURCE = fileURLToPath(new URL('./freeze-watch.c', import.meta.url));

/** What the watch saw between two readings (see freeze-watch.c). */
export interface FreezeStats {
  seconds: number;
  /** Wakes later than 5 ms: stretches in which the watched CPU did not run. */
  freezes: number;
  /** Their total lateness, ms. */
  frozenMs: number;
  longestMs: number;
  /** Whether it ran at real-time priority (without it, a busy CPU also makes it late). */
  realtime: boolean;
}

/** A running watch on one CPU. */
export interface FreezeWatch {
  readonly pid: number | undefined;
  /** What happened since the previous reading (or the start); starts afresh. */
  read(): Promise<FreezeStats>;
  close(): Promise<void>;
}

/** Compiles bench/support/freeze-watch.c into `dir`; returns the binary's path. */
export function buildFreezeWatch(dir: string): string {
  return compileC(SOURCE, dir);
}

/** Starts the compiled watch pinned to `cpu` (undefined: not pinned). */
export function startFreezeWatch(bin: string, cpu: number | undefined): FreezeWatch {
  const [cmd, args] = pinned(cpu, bin, []);
  const child = startLineChild('freeze watch', cmd, args);
  return {
    pid: child.pid,
    read: async () => JSON.parse(await child.ask('read', 5_000)) as FreezeStats,
    close: () => child.close(),
  };
}
