import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Child processes a fault starts carry `--faultline-fault=<faultId>` in their argv, so a sweep finds
 * them in /proc after a crash. Each is recorded as pid + start time (clock ticks since boot, from
 * /proc/PID/stat) so a recycled pid is never killed.
 */
export const FAULT_MARKER = '--faultline-fault=';
/** Second marker: the agent that started the process, so one agent's sweep leaves another's alone. */
export const AGENT_MARKER = '--faultline-agent=';

export interface ProcessRef {
  pid: number;
  /** /proc/PID/stat field 22: start time in clock ticks since boot. */
  startTime: number;
}

export interface TaggedProcess extends ProcessRef {
  faultId: string;
  agentId: string;
}

/** Whose a tagged process is. */
export interface ProcessTag {
  faultId: string;
  agentId: string;
}

/** Start time and state of a live process; undefined when it is gone or a zombie (already dead). */
export function readProcess(pid: number): { startTime: number; state: string } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses; fields after the last ')' do not.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = rest[0] ?? '?';
  const startTime = Number(rest[19]);
  if (state === 'Z' || state === 'X') return undefined;
  return { startTime, state };
}

/** True when `ref` names the very process that was recorded (same pid, same start time) and it lives. */
export function isSameProcess(ref: ProcessRef): boolean {
  return readProcess(ref.pid)?.startTime === ref.startTime;
}

function argvOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/** Live processes carrying our marker; only those matching the given fields of `filter`. */
export function findTagged(filter: Partial<ProcessTag> = {}): TaggedProcess[] {
  const found: TaggedProcess[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const argv = argvOf(pid);
    const faultId = argv.find((a) => a.startsWith(FAULT_MARKER))?.slice(FAULT_MARKER.length);
    if (faultId === undefined) continue;
    const agentId = argv.find((a) => a.startsWith(AGENT_MARKER))?.slice(AGENT_MARKER.length) ?? '';
    if (filter.faultId !== undefined && filter.faultId !== faultId) continue;
    if (filter.agentId !== undefined && filter.agentId !== agentId) continue;
    const proc = readProcess(pid);
    if (proc) found.push({ pid, startTime: proc.startTime, faultId, agentId });
  }
  return found;
}

/** A process just started by spawnTagged, with its stdin still open (see workers/start-gate.ts). */
export interface SpawnedProcess {
  ref: ProcessRef;
  /** The child's stdin; end it (with or without a message) so the agent's event loop can exit. */
  stdin: Writable;
}

/**
 * Starts `script` on this Node, detached in its own process group so it outlives an agent killed
 * with -9 (the restarted agent's ledger replay ends it, which is the behaviour we test). Its stdin
 * is a pipe, so the caller can hold the script at a start gate until it has been placed.
 */
export function spawnTagged(script: string, tag: ProcessTag, args: string[]): SpawnedProcess {
  const markers = [`${FAULT_MARKER}${tag.faultId}`, `${AGENT_MARKER}${tag.agentId}`];
  const child = spawn(process.execPath, [script, ...markers, ...args], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  child.unref();
  const stdin = child.stdin;
  // A child that died early makes writes fail with EPIPE; the caller sees it gone, the agent must not crash.
  stdin.on('error', () => {});
  const pid = child.pid;
  const proc = pid === undefined ? undefined : readProcess(pid);
  if (pid === undefined || !proc) {
    stdin.destroy();
    throw new Error(`could not start ${script}`);
  }
  return { ref: { pid, startTime: proc.startTime }, stdin };
}

/**
 * SIGKILLs the recorded processes that are still the same processes, plus any live process carrying
 * the markers in `tag`, and waits (up to `waitMs`) until they are gone. Resolves how many it killed.
 */
export async function killTagged(
  refs: readonly ProcessRef[],
  tag: Partial<ProcessTag>,
  waitMs = 3_000,
): Promise<number> {
  const targets = new Map<number, ProcessRef>();
  for (const ref of refs) if (isSameProcess(ref)) targets.set(ref.pid, ref);
  for (const t of findTagged(tag)) targets.set(t.pid, t);
  for (const { pid } of targets.values()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone between the check and the kill: what we wanted.
    }
  }
  const deadline = Date.now() + waitMs;
  for (const ref of targets.values()) {
    while (isSameProcess(ref)) {
      if (Date.now() > deadline) throw new Error(`process ${ref.pid} did not die within ${waitMs} ms`);
      await sleep(5);
    }
  }
  return targets.size;
}
