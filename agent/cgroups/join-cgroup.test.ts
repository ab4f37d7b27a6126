import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isFaultlineError } from '../../protocol/errors.ts';
import type { CgroupMounts } from './cgroup-mounts.ts';
import { cgroupDirsFor, cgroupDirsOfProcess, joinCgroups } from './join-cgroup.ts';

const separate: CgroupMounts = {
  v1: {
    memory: { mountPoint: '/sys/fs/cgroup/memory', root: '/' },
    cpu: { mountPoint: '/sys/fs/cgroup/cpu', root: '/' },
    cpuacct: { mountPoint: '/sys/fs/cgroup/cpuacct', root: '/' },
    pids: { mountPoint: '/sys/fs/cgroup/pids', root: '/' },
    cpuset: { mountPoint: '/sys/fs/cgroup/cpuset', root: '/' },
  },
  unified: { mountPoint: '/sys/fs/cgroup/unified', root: '/' },
};

describe('cgroupDirsFor', () => {
  it('gives the memory, cpu, cpuacct and pids directories of a v1 process, and no others', () => {
    const dirs = cgroupDirsFor(
      {
        v1: {
          memory: '/docker/abc',
          cpu: '/docker/abc',
          cpuacct: '/docker/abc',
          pids: '/docker/abc',
          cpuset: '/x',
        },
        unified: '/',
      },
      separate,
    );
    expect(dirs).toEqual([
      '/sys/fs/cgroup/memory/docker/abc',
      '/sys/fs/cgroup/cpu/docker/abc',
      '/sys/fs/cgroup/cpuacct/docker/abc',
      '/sys/fs/cgroup/pids/docker/abc',
    ]);
  });

  it('gives one directory for cpu and cpuacct mounted together', () => {
    const together = { mountPoint: '/sys/fs/cgroup/cpu,cpuacct', root: '/' };
    const dirs = cgroupDirsFor(
      { v1: { cpu: '/a', cpuacct: '/a' } },
      { v1: { cpu: together, cpuacct: together } },
    );
    expect(dirs).toEqual(['/sys/fs/cgroup/cpu,cpuacct/a']);
  });

  it('gives the unified directory on a pure v2 host, relative to the mount root', () => {
    const dirs = cgroupDirsFor(
      { v1: {}, unified: '/kubepods/pod1/c1' },
      { v1: {}, unified: { mountPoint: '/sys/fs/cgroup', root: '/kubepods' } },
    );
    expect(dirs).toEqual(['/sys/fs/cgroup/pod1/c1']);
  });

  it('leaves out a cgroup outside the mounted part of its hierarchy', () => {
    const dirs = cgroupDirsFor(
      { v1: { memory: '/other/x' } },
      { v1: { memory: { mountPoint: '/m', root: '/docker' } } },
    );
    expect(dirs).toEqual([]);
  });
});

describe('cgroupDirsOfProcess', () => {
  it('refuses a process that is gone with FAULT_APPLY_FAILED', () => {
    let err: unknown;
    try {
      cgroupDirsOfProcess(4_194_305);
    } catch (e) {
      err = e;
    }
    expect(isFaultlineError(err, 'FAULT_APPLY_FAILED')).toBe(true);
    expect((err as Error).message).toContain('4194305');
  });

  it("finds this process's own cgroup directories, each one existing", () => {
    const dirs = cgroupDirsOfProcess(process.pid);
    expect(dirs.length).toBeGreaterThan(0);
    for (const dir of dirs) expect(existsSync(`${dir}/cgroup.procs`)).toBe(true);
  });
});

describe('joinCgroups', () => {
  it('throws FAULT_APPLY_FAILED naming the cgroup directory that refused', () => {
    const dir = '/sys/fs/cgroup/memory/faultline-does-not-exist';
    let err: unknown;
    try {
      joinCgroups([dir], process.pid);
    } catch (e) {
      err = e;
    }
    expect(isFaultlineError(err, 'FAULT_APPLY_FAILED')).toBe(true);
    expect((err as Error).message).toContain(dir);
  });
});
