import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { canPin, cpuSeconds, repin, stopChild } from './processes.ts';

const allowed = (pid: number): string =>
  /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '';

const started: ReturnType<typeof spawn>[] = [];
/** Processes our children started (by pid), ended too. */
const grandchildren: number[] = [];
afterEach(async () => {
  for (const pid of grandchildren.splice(0)) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  for (const c of started.splice(0)) await stopChild(c);
});

describe('repin', () => {
  it('moves a process we started and the process under it onto one CPU, and back', async () => {
    // The benches need taskset and two CPUs; a machine without them fails here, loudly.
    expect(canPin()).toBe(true);
    expect(cpus().length).toBeGreaterThanOrEqual(2);
    // A shell with a child of its own, like nginx's master and worker.
    const shell = spawn('sh', ['-c', 'sleep 30 & wait'], { stdio: 'ignore' });
    started.push(shell);
    let child: number | undefined;
    for (let i = 0; i < 50 && child === undefined; i++) {
      await new Promise((r) => setTimeout(r, 20));
      const list = readFileSync(`/proc/${shell.pid}/task/${shell.pid}/children`, 'utf8').trim();
      if (list) child = Number(list.split(' ')[0]);
    }
    expect(child).toBeGreaterThan(0);
    grandchildren.push(child!);
    repin(shell.pid!, 1);
    expect([allowed(shell.pid!), allowed(child!)]).toEqual(['1', '1']);
    repin(shell.pid!, 0);
    expect([allowed(shell.pid!), allowed(child!)]).toEqual(['0', '0']);
  });
});

describe('cpuSeconds', () => {
  it('counts the CPU a busy process burns and not the time a sleeping one waits', async () => {
    const busy = spawn(process.execPath, ['-e', 'const t = Date.now(); while (Date.now() - t < 600);'], {
      stdio: 'ignore',
    });
    const idle = spawn('sleep', ['30'], { stdio: 'ignore' });
    started.push(busy, idle);
    // Read while both still run: the busy one spins for 600 ms of wall time after Node starts.
    await new Promise((r) => setTimeout(r, 450));
    const busyCpu = cpuSeconds(busy.pid!);
    const idleCpu = cpuSeconds(idle.pid!);
    expect(busyCpu).toBeGreaterThan(0.15);
    expect(idleCpu).toBeLessThan(0.05);
  });
});
