import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The kernel's DAMON memory monitor (mm/damon), as its sysfs admin interface shows it. Where it runs,
 * its kdamond thread wakes every sampling interval and runs for a few ms on one of the cores,
 * ahead of whatever was running there: on the 2-core bench VMs that is the proxy's core about half
 * the time (docs/performance-notes.md, "The bench VMs run the kernel's DAMON monitor").
 */
export interface DamonState {
  /** kdamonds whose state is "on". */
  running: number;
  /** Sampling interval of each running context, ms. */
  sampleMs: number[];
  /** Actions of their schemes (e.g. "pageout": it reclaims pages it finds cold). */
  actions: string[];
}

const read = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
};
const numbered = (dir: string): string[] => {
  try {
    return readdirSync(dir).filter((n) => /^\d+$/.test(n));
  } catch {
    return [];
  }
};

/** DAMON's state under `root` (its sysfs admin folder); undefined where the kernel has none. */
export function readDamon(root = '/sys/kernel/mm/damon/admin'): DamonState | undefined {
  const kdamonds = join(root, 'kdamonds');
  if (read(join(kdamonds, 'nr_kdamonds')) === undefined) return undefined;
  const state: DamonState = { running: 0, sampleMs: [], actions: [] };
  for (const k of numbered(kdamonds)) {
    if (read(join(kdamonds, k, 'state')) !== 'on') continue;
    state.running++;
    const contexts = join(kdamonds, k, 'contexts');
    for (const c of numbered(contexts)) {
      const us = Number(read(join(contexts, c, 'monitoring_attrs', 'intervals', 'sample_us')));
      if (Number.isFinite(us)) state.sampleMs.push(us / 1_000);
      const schemes = join(contexts, c, 'schemes');
      for (const s of numbered(schemes)) {
        const action = read(join(schemes, s, 'action'));
        if (action) state.actions.push(action);
      }
    }
  }
  return state;
}

/** Linux reports thread CPU time in clock ticks of 10 ms (USER_HZ is 100 on every mainstream arch). */
const MS_PER_TICK = 10;

/** CPU time used so far by the kernel's kdamond threads (user + system), ms; 0 where there are none. */
export function kdamondCpuMs(proc = '/proc'): number {
  let ticks = 0;
  for (const pid of numbered(proc)) {
    const stat = read(join(proc, pid, 'stat'));
    if (!stat?.includes('(kdamond')) continue;
    // Fields after the ")" that ends the command name: state is the 1st, utime the 12th, stime the 13th.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks * MS_PER_TICK;
}

/** One line for a bench's notes; undefined where DAMON is absent or off. */
export function damonNote(state: DamonState | undefined, cpuMs: number, seconds: number): string | undefined {
  if (!state || state.running === 0) return undefined;
  const sample = [...new Set(state.sampleMs)].join(', ');
  const actions = state.actions.length ? `, schemes: ${[...new Set(state.actions)].join(', ')}` : '';
  return (
    `The kernel's DAMON monitor was on (${state.running} kdamond, sampling every ${sample} ms${actions}): ` +
    `its threads used ${Math.round(cpuMs)} ms of CPU in ${Math.round(seconds)} s, in wakes of a few ms ` +
    'that run ahead of whatever held that core, the proxy included.'
  );
}
