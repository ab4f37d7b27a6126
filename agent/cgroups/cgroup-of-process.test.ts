import { describe, expect, it } from 'vitest';
import { cgroupOfProcess, parseProcCgroup } from './cgroup-of-process.ts';

describe('parseProcCgroup', () => {
  it('reads one path per v1 controller, splitting comma-joined hierarchies and leaving out named ones', () => {
    const text = [
      '12:pids:/docker/abc',
      '4:memory:/docker/abc',
      '2:cpu,cpuacct:/docker/abc',
      '1:name=systemd:/docker/abc',
      '',
    ].join('\n');
    expect(parseProcCgroup(text)).toEqual({
      v1: { pids: '/docker/abc', memory: '/docker/abc', cpu: '/docker/abc', cpuacct: '/docker/abc' },
    });
  });

  it('reads the unified path of a pure cgroup v2 host', () => {
    expect(parseProcCgroup('0::/system.slice/docker-abc.scope\n')).toEqual({
      v1: {},
      unified: '/system.slice/docker-abc.scope',
    });
  });

  it('reads both halves of a hybrid host', () => {
    const parsed = parseProcCgroup('4:memory:/process_api/x\n1:cpu:/\n0::/\n');
    expect(parsed).toEqual({ v1: { memory: '/process_api/x', cpu: '/' }, unified: '/' });
  });

  it('keeps a colon inside a cgroup path', () => {
    expect(parseProcCgroup('0::/a:b/c\n').unified).toBe('/a:b/c');
  });
});

describe('cgroupOfProcess', () => {
  it('reads our own cgroups, and undefined for a pid that does not exist', () => {
    const own = cgroupOfProcess(process.pid);
    expect(own).toBeDefined();
    expect(Object.keys(own!.v1).length > 0 || own!.unified !== undefined).toBe(true);
    // Above the default pid_max (4194304 on 64-bit): never a live process.
    expect(cgroupOfProcess(4_194_305)).toBeUndefined();
  });
});
