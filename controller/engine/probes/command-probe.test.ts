import { describe, expect, it } from 'vitest';
import { createCommandProbe } from './command-probe.ts';

const signal = () => new AbortController().signal;

describe('command probe', () => {
  it('runs argv without a shell and records exit code and stdout', async () => {
    // `$HOME` stays literal: no shell expands it.
    const s = await createCommandProbe('echo', { run: ['echo', 'accepting $HOME'], timeoutMs: 5000 }).run(
      signal(),
    );
    expect(s).toMatchObject({
      probe: 'echo',
      kind: 'command',
      ok: true,
      exitCode: 0,
      stdout: 'accepting $HOME\n',
    });
  });

  it('reports a non-zero exit as ran-to-end with that exit code', async () => {
    const s = await createCommandProbe('false', {
      run: ['sh', '-c', 'echo nope; exit 3'],
      timeoutMs: 5000,
    }).run(signal());
    expect(s).toMatchObject({ ok: true, exitCode: 3, stdout: 'nope\n' });
  });

  it('passes env and cwd through', async () => {
    const s = await createCommandProbe('env', {
      run: ['sh', '-c', 'echo "$FL_X $(pwd)"'],
      env: { FL_X: 'seven' },
      cwd: '/tmp',
      timeoutMs: 5000,
    }).run(signal());
    expect(s.stdout).toBe('seven /tmp\n');
  });

  it('kills the command and its children at the timeout', async () => {
    const started = Date.now();
    const s = await createCommandProbe('slow', {
      run: ['sh', '-c', 'sleep 30 & sleep 30'],
      timeoutMs: 200,
    }).run(signal());
    expect(s.ok).toBe(false);
    expect(s.error).toBe('killed after 200 ms timeout');
    expect(s.exitCode).toBeNull();
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('fails clearly when the program does not exist', async () => {
    const s = await createCommandProbe('x', { run: ['/nonexistent/faultline-probe'], timeoutMs: 1000 }).run(
      signal(),
    );
    expect(s.ok).toBe(false);
    expect(s.error).toContain('cannot run /nonexistent/faultline-probe');
    expect(s.error).toContain('ENOENT');
  });
});
