import { readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

function processCount(dir: string): number | undefined {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).length;
  } catch {
    return undefined; // removed already
  }
}

/**
 * Removes each of `dirs` that has no process left in it, waiting up to `waitMs` for processes
 * just killed to leave (a dead process stays listed until it is reaped). The kernel refuses to
 * remove a cgroup with processes or child cgroups, so a cgroup someone else still uses survives.
 * Resolves how many it removed.
 */
export async function removeEmptyCgroups(dirs: readonly string[], waitMs = 1_000): Promise<number> {
  let removed = 0;
  const deadline = Date.now() + waitMs;
  for (const dir of dirs) {
    let count = processCount(dir);
    while (count !== undefined && count > 0 && Date.now() < deadline) {
      await sleep(10);
      count = processCount(dir);
    }
    if (count !== 0) continue;
    try {
      rmdirSync(dir);
      removed++;
    } catch {
      // Busy again (its owner put a process back, or made a child cgroup) or removed meanwhile: theirs.
    }
  }
  return removed;
}
