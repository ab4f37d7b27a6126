import { readFileSync } from 'node:fs';

/**
 * Where the cgroup hierarchies are mounted, from /proc/self/mountinfo. Distributions differ
 * (`/sys/fs/cgroup/cpu,cpuacct` or separate `cpu` and `cpuacct`, `/sys/fs/cgroup/unified` on a
 * hybrid host, `/sys/fs/cgroup` itself on pure v2), so no path is assumed.
 */
export interface CgroupMount {
  /** Directory the hierarchy is mounted on, e.g. `/sys/fs/cgroup/memory`. */
  mountPoint: string;
  /** Path inside the hierarchy that is mounted there (`/` unless bind-mounted or namespaced). */
  root: string;
}

export interface CgroupMounts {
  /** v1 controller name → its hierarchy's mount. */
  v1: Record<string, CgroupMount>;
  /** The v2 (unified) hierarchy's mount, if any. */
  unified?: CgroupMount;
}

/** mountinfo escapes space, tab, newline and backslash as octal (`\040`). */
function unescapeOctal(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** Prefers a mount of the hierarchy's root over a bind mount of a sub-directory. */
function better(current: CgroupMount | undefined, next: CgroupMount): CgroupMount {
  return current === undefined || (current.root !== '/' && next.root === '/') ? next : current;
}

/** Parses the text of /proc/self/mountinfo (`id parent dev root mountpoint opts [tags] - fstype source superopts`). */
export function parseMountinfo(text: string): CgroupMounts {
  const mounts: CgroupMounts = { v1: {} };
  for (const line of text.split('\n')) {
    const [before, after] = line.split(' - ');
    if (before === undefined || after === undefined) continue;
    const fields = before.split(' ');
    const [fsType, , superOptions = ''] = after.split(' ');
    const root = fields[3];
    const mountPoint = fields[4];
    if (root === undefined || mountPoint === undefined) continue;
    const mount = { mountPoint: unescapeOctal(mountPoint), root: unescapeOctal(root) };
    if (fsType === 'cgroup2') {
      mounts.unified = better(mounts.unified, mount);
    } else if (fsType === 'cgroup') {
      // Super options name the controllers of a v1 hierarchy, among rw/ro and other flags.
      for (const option of superOptions.split(',')) {
        if (option === 'rw' || option === 'ro' || option.includes('=')) continue;
        mounts.v1[option] = better(mounts.v1[option], mount);
      }
    }
  }
  return mounts;
}

/** The cgroup mounts seen by this process. */
export function readCgroupMounts(): CgroupMounts {
  return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
}
