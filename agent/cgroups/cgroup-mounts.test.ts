import { describe, expect, it } from 'vitest';
import { parseMountinfo, readCgroupMounts } from './cgroup-mounts.ts';

const hybrid = [
  '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
  '33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct',
  '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory',
  '40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd',
  '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
  '',
].join('\n');

describe('parseMountinfo', () => {
  it('maps each v1 controller to its mount and finds the unified mount of a hybrid host', () => {
    const mounts = parseMountinfo(hybrid);
    expect(mounts.v1.memory).toEqual({ mountPoint: '/sys/fs/cgroup/memory', root: '/' });
    expect(mounts.v1.cpu?.mountPoint).toBe('/sys/fs/cgroup/cpu');
    expect(mounts.v1.cpuacct?.mountPoint).toBe('/sys/fs/cgroup/cpuacct');
    expect(mounts.v1['name=systemd']).toBeUndefined();
    expect(mounts.unified).toEqual({ mountPoint: '/sys/fs/cgroup/unified', root: '/' });
  });

  it('maps controllers mounted together to one mount', () => {
    const mounts = parseMountinfo(
      '30 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n',
    );
    expect(mounts.v1.cpu).toEqual(mounts.v1.cpuacct);
    expect(mounts.v1.cpu?.mountPoint).toBe('/sys/fs/cgroup/cpu,cpuacct');
  });

  it('reads a pure v2 host, with its root and an escaped space in a mount point', () => {
    const mounts = parseMountinfo(
      '29 23 0:26 /kubepods /mnt/my\\040cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n',
    );
    expect(mounts).toEqual({ v1: {}, unified: { mountPoint: '/mnt/my cgroup', root: '/kubepods' } });
  });

  it('prefers a mount of the hierarchy root over a bind mount of a sub-directory', () => {
    const mounts = parseMountinfo(
      [
        '50 23 0:32 /docker/abc /var/lib/x rw - cgroup cgroup rw,memory',
        '35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
      ].join('\n'),
    );
    expect(mounts.v1.memory).toEqual({ mountPoint: '/sys/fs/cgroup/memory', root: '/' });
  });
});

describe('readCgroupMounts', () => {
  it('finds at least one cgroup hierarchy on this machine', () => {
    const mounts = readCgroupMounts();
    expect(Object.keys(mounts.v1).length > 0 || mounts.unified !== undefined).toBe(true);
  });
});
