import { fileURLToPath } from 'node:url';
import type { Direction } from '../../protocol/proxy.ts';
import { compileC } from './compile-c.ts';
import { startLineChild } from './line-child.ts';
import { pinned } from './processes.ts';

const SOURCE = fileURLToPath(new URL('./tcp-delayer.c', import.meta.url));

/** A running tcp-delayer.c: a one-thread epoll TCP pipe that holds each chunk a set delay. */
export interface TcpDelayer {
  readonly pid: number;
  readonly port: number;
  /** Holds every chunk in `direction` `ms` before writing it on; 0 = none. Held chunks go on first. */
  setDelay(direction: Direction, ms: number): Promise<void>;
  /** Both directions back to no delay. */
  reset(): Promise<void>;
  /** Ends it (end of stdin) and waits for it to exit. */
  close(): Promise<void>;
}

/** Compiles bench/support/tcp-delayer.c into `dir`; returns the binary's path. */
export function buildTcpDelayer(dir: string): string {
  return compileC(SOURCE, dir);
}

/** Starts the compiled delayer in front of 127.0.0.1:`upstreamPort`, pinned to `cpu` when given. */
export async function startTcpDelayer(
  bin: string,
  opts: { upstreamPort: number; cpu?: number },
): Promise<TcpDelayer> {
  const [cmd, args] = pinned(opts.cpu, bin, ['127.0.0.1', String(opts.upstreamPort)]);
  const child = startLineChild('tcp delayer', cmd, args);
  const ok = async (line: string): Promise<void> => {
    const answer = await child.ask(line, 5_000);
    if (answer !== 'ok') throw new Error(`tcp delayer answered "${answer}" to "${line}"`);
  };
  const port = Number(await child.ask('port', 5_000));
  if (!(port > 0) || child.pid === undefined) throw new Error('tcp delayer did not start');
  return {
    pid: child.pid,
    port,
    async setDelay(direction, ms) {
      if (!Number.isInteger(ms) || ms < 0) throw new Error(`delay must be whole ms ≥ 0, got ${ms}`);
      await ok(`delay ${direction} ${ms}`);
    },
    reset: () => ok('reset'),
    close: () => child.close(),
  };
}
