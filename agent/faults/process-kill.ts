import { readdirSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { basename } from 'node:path';
import { z } from 'zod';
import type { AgentTarget } from '../../protocol/agent-wire.ts';
import { FaultlineError } from '../../protocol/errors.ts';
import type { AgentFault } from './agent-fault.ts';
import { readProcess } from './tagged-process.ts';

const SIGNALS = Object.keys(constants.signals) as [
  keyof typeof constants.signals,
  ...(keyof typeof constants.signals)[],
];

export const ProcessKillParams = z
  .strictObject({
    /** Kill every process whose name (/proc/PID/comm or argv[0]'s base name) equals this. */
    name: z.string().min(1).optional(),
    /** Kill this pid. Without `name` and `pid`, a `pid:N` target is killed. */
    pid: z.number().int().positive().optional(),
    /** Signal sent. Default SIGKILL. */
    signal: z.enum(SIGNALS).default('SIGKILL'),
    /** Kill again every this many ms until revert (matching processes that came back). */
    intervalMs: z.number().int().min(100).max(3_600_000).optional(),
  })
  .refine((p) => p.name === undefined || p.pid === undefined, { message: 'give name or pid, not both' });
export type ProcessKillParams = z.infer<typeof ProcessKillParams>;

export interface KilledProcess {
  pid: number;
  startTime: number;
  name: string;
  signal: string;
  /** Epoch ms. */
  at: number;
}

function nameOf(pid: number): { comm: string; argv0: string } {
  const read = (f: string) => {
    try {
      return readFileSync(`/proc/${pid}/${f}`, 'utf8');
    } catch {
      return '';
    }
  };
  return { comm: read('comm').trim(), argv0: basename(read('cmdline').split('\0')[0] ?? '') };
}

function matching(target: AgentTarget, params: ProcessKillParams): number[] {
  // Never the agent itself or whoever started it.
  const spared = new Set([process.pid, process.ppid, 1]);
  if (params.pid !== undefined) return spared.has(params.pid) ? [] : [params.pid];
  if (params.name === undefined) {
    const m = /^pid:(\d+)$/.exec(target);
    return m && !spared.has(Number(m[1])) ? [Number(m[1])] : [];
  }
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || spared.has(pid)) continue;
    const { comm, argv0 } = nameOf(pid);
    if (comm === params.name || argv0 === params.name) pids.push(pid);
  }
  return pids;
}

function killOnce(target: AgentTarget, params: ProcessKillParams): KilledProcess[] {
  const killed: KilledProcess[] = [];
  for (const pid of matching(target, params)) {
    const proc = readProcess(pid);
    if (!proc) continue;
    try {
      process.kill(pid, params.signal);
      killed.push({
        pid,
        startTime: proc.startTime,
        name: nameOf(pid).comm,
        signal: params.signal,
        at: Date.now(),
      });
    } catch {
      // Gone (or not ours to signal) between the scan and the kill.
    }
  }
  return killed;
}

/**
 * Sends `signal` to a process by name or pid, once or every `intervalMs`. Revert stops the
 * interval; killed processes are not brought back (a supervisor's job). The receipt lists what
 * the first round killed.
 */
export const processKill: AgentFault<ProcessKillParams> = {
  type: 'process-kill',
  targets: ['host', 'pid'],
  summary: 'signals processes by name or pid, once or every intervalMs; revert stops the interval',
  params: ProcessKillParams,
  example: { name: 'faultline-example-victim', signal: 'SIGKILL' },
  undo: () => ({ killed: [] }),
  async apply(target, params, ctx) {
    const killed = killOnce(target, params);
    if (killed.length === 0 && params.intervalMs === undefined) {
      throw new FaultlineError('FAULT_APPLY_FAILED', 'process-kill found no matching process', {
        target,
        name: params.name,
        pid: params.pid,
      });
    }
    if (params.intervalMs !== undefined) {
      const timer = setInterval(() => killOnce(target, params), params.intervalMs);
      ctx.background.add(ctx.faultId, () => clearInterval(timer));
    }
    return { killed, intervalMs: params.intervalMs };
  },
  async revert(_receipt, ctx) {
    // The interval lives in this process: after a crash it is gone already, which is "vanished".
    return ctx.background.stop(ctx.faultId) ? 'reverted' : 'vanished';
  },
};
