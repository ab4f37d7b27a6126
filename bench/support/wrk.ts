import { execFile } from 'node:child_process';
import { pinned } from './processes.ts';

/** What one wrk run measured. Latencies in µs. */
export interface WrkResult {
  requestsPerSec: number;
  requests: number;
  p50Us: number;
  p75Us: number;
  p90Us: number;
  p99Us: number;
  /** Connect, read, write and timeout errors added up. */
  socketErrors: number;
  non2xx: number;
}

/** Options of one wrk run. */
export interface WrkOptions {
  url: string;
  /** Open connections. Default 32. */
  connections?: number;
  /** Run length, s. Default 5. */
  durationSec?: number;
  /** CPU to pin wrk to with taskset; undefined = not pinned. */
  cpu?: number;
}

const UNIT_US: Record<string, number> = { us: 1, ms: 1_000, s: 1_000_000, m: 60_000_000 };

function toUs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!m) throw new Error(`wrk: cannot read latency "${text}"`);
  return Number(m[1]) * UNIT_US[m[2]!]!;
}

/** Parses the output of `wrk --latency` (Lua-free). Exported for its unit test. */
export function parseWrk(output: string): WrkResult {
  const pct = (p: string): number => {
    const m = new RegExp(`^\\s*${p}%\\s+(\\S+)\\s*$`, 'm').exec(output);
    if (!m) throw new Error(`wrk: no ${p}% line in output:\n${output}`);
    return toUs(m[1]!);
  };
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(output);
  const total = /^\s*(\d+) requests in/m.exec(output);
  if (!rps || !total) throw new Error(`wrk: cannot read output:\n${output}`);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  return {
    requestsPerSec: Number(rps[1]),
    requests: Number(total[1]),
    p50Us: pct('50'),
    p75Us: pct('75'),
    p90Us: pct('90'),
    p99Us: pct('99'),
    socketErrors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
  };
}

/** Runs `wrk -t1 -cN -dNs --latency URL`, bounded: killed 15 s after its run length. */
export function runWrk(opts: WrkOptions): Promise<WrkResult> {
  const durationSec = opts.durationSec ?? 5;
  const connections = opts.connections ?? 32;
  const [cmd, args] = pinned(opts.cpu, 'wrk', [
    '-t1',
    `-c${connections}`,
    `-d${durationSec}s`,
    '--timeout',
    '5s',
    '--latency',
    opts.url,
  ]);
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { timeout: (durationSec + 15) * 1_000, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        if (err) {
          reject(new Error(`wrk failed (${err.message}): ${stderr || stdout}`));
          return;
        }
        try {
          resolve(parseWrk(stdout));
        } catch (parseErr) {
          reject(parseErr);
        }
      },
    );
  });
}
