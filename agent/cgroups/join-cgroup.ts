import { writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { FaultlineError } from '../../protocol/errors.ts';
import { type CgroupMounts, readCgroupMounts } from './cgroup-mounts.ts';
import { cgroupOfProcess, type ProcessCgroups } from './cgroup-of-process.ts';

/**
 * v1 controllers a worker joins so its memory and CPU count against the target: memory (usage and
 * limit, so the target's OOM killer sees it), cpu (shares and quota), cpuacct (CPU accounting),
 * pids. Others (cpuset, blkio, freezer, devices) stay the agent's.
 */
export const PLACEMENT_CONTROLLERS = ['memory', 'cpu', 'cpuacct', 'pids'] as const;

/** `path` (as in /proc/PID/cgroup) as a directory under `mount`, or undefined when outside it. */
function dirUnder(mount: { mountPoint: string; root: string }, path: string): string | undefined {
  const relative = posix.relative(mount.root, path);
  if (relative.startsWith('..')) return undefined;
  return join(mount.mountPoint, relative);
}

/**
 * The cgroup directories a worker must join to share the cgroups of a process: one per
 * PLACEMENT_CONTROLLERS hierarchy on v1 (deduplicated: `cpu,cpuacct` is one directory when mounted
 * together); the unified directory on pure v2 (a hybrid host keeps its controllers on v1, so there
 * the v1 directories are the ones that count).
 */
export function cgroupDirsFor(cgroups: ProcessCgroups, mounts: CgroupMounts): string[] {
  const dirs = new Set<string>();
  for (const controller of PLACEMENT_CONTROLLERS) {
    const mount = mounts.v1[controller];
    const path = cgroups.v1[controller];
    if (mount === undefined || path === undefined) continue;
    const dir = dirUnder(mount, path);
    if (dir !== undefined) dirs.add(dir);
  }
  if (dirs.size === 0 && mounts.unified !== undefined && cgroups.unified !== undefined) {
    const dir = dirUnder(mounts.unified, cgroups.unified);
    if (dir !== undefined) dirs.add(dir);
  }
  return [...dirs];
}

/**
 * The cgroup directories of process `pid` (see cgroupDirsFor). Throws FAULT_APPLY_FAILED when the
 * process is gone or none of its cgroups is visible from here.
 */
export function cgroupDirsOfProcess(pid: number, mounts: CgroupMounts = readCgroupMounts()): string[] {
  const cgroups = cgroupOfProcess(pid);
  if (cgroups === undefined) {
    throw new FaultlineError('FAULT_APPLY_FAILED', `target process ${pid} is gone`, { pid });
  }
  const dirs = cgroupDirsFor(cgroups, mounts);
  if (dirs.length === 0) {
    throw new FaultlineError(
      'FAULT_APPLY_FAILED',
      `no memory/cpu cgroup of process ${pid} is mounted where this agent can see it`,
      { pid },
    );
  }
  return dirs;
}

/**
 * Moves process `pid` (all its threads) into each directory of `dirs` by writing it to
 * `cgroup.procs`. Memory and CPU used before the move stay charged to the old cgroup, so call this
 * before the process allocates or spins. Throws FAULT_APPLY_FAILED naming the directory that
 * refused (target's cgroup removed, no permission, a v2 cgroup with children).
 */
export function joinCgroups(
  dirs: readonly string[],
  pid: number,
  mounts: CgroupMounts = readCgroupMounts(),
): void {
  for (const dir of dirs) {
    const file = join(dir, 'cgroup.procs');
    try {
      writeFileSync(file, `${pid}\n`);
    } catch (err) {
      throw new FaultlineError(
        'FAULT_APPLY_FAILED',
        `could not move process ${pid} into cgroup ${dir}: ${(err as Error).message}`,
        { pid, cgroup: dir },
        { cause: err },
      );
    }
  }
  // A write can succeed yet leave the process elsewhere (it exited and the pid was reused, or a
  // cgroup manager moved it back): check where it is now.
  const now = cgroupOfProcess(pid);
  const at = now === undefined ? [] : cgroupDirsFor(now, mounts);
  const missed = dirs.find((dir) => !at.includes(dir));
  if (missed !== undefined) {
    throw new FaultlineError(
      'FAULT_APPLY_FAILED',
      `process ${pid} is not in cgroup ${missed} after joining it`,
      { pid, cgroup: missed },
    );
  }
}
