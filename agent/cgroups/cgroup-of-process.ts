import { readFileSync } from 'node:fs';

/**
 * Which cgroups a process is in, from /proc/PID/cgroup. Each line is `hierarchy:controllers:path`:
 * on cgroup v1 `4:memory:/docker/abc` or `2:cpu,cpuacct:/docker/abc` (one line per hierarchy,
 * controllers comma-joined when mounted together); on v2 the single line `0::/system.slice/x.scope`.
 * A hybrid host has both. Paths are relative to the hierarchy's root (as seen from our namespace).
 */
export interface ProcessCgroups {
  /** v1 controller name → path, e.g. `memory` → `/docker/abc`. Named hierarchies (`name=systemd`) are left out. */
  v1: Record<string, string>;
  /** The v2 (unified) path, when the process is on a v2 hierarchy. */
  unified?: string;
}

/** Parses the text of /proc/PID/cgroup. */
export function parseProcCgroup(text: string): ProcessCgroups {
  const result: ProcessCgroups = { v1: {} };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    // The path may itself hold ':' (rare, but legal in a cgroup name): split on the first two only.
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const hierarchy = line.slice(0, first);
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    if (hierarchy === '0' && controllers === '') {
      result.unified = path;
      continue;
    }
    for (const controller of controllers.split(',')) {
      if (controller !== '' && !controller.startsWith('name=')) result.v1[controller] = path;
    }
  }
  return result;
}

/** The cgroups of `pid`; undefined when the process is gone. */
export function cgroupOfProcess(pid: number): ProcessCgroups | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return undefined;
  }
  return parseProcCgroup(text);
}
