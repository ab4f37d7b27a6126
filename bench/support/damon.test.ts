import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { damonNote, kdamondCpuMs, readDamon } from './damon.ts';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function tree(files: Record<string, string>): string {
  dir = mkdtempSync(join(tmpdir(), 'faultline-damon-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), `${text}\n`);
  }
  return dir;
}

describe('damon', () => {
  it('reads running kdamonds with their sampling interval and scheme actions, and skips stopped ones', () => {
    const root = tree({
      'kdamonds/nr_kdamonds': '2',
      'kdamonds/0/state': 'on',
      'kdamonds/0/contexts/0/monitoring_attrs/intervals/sample_us': '500000',
      'kdamonds/0/contexts/0/schemes/0/action': 'pageout',
      'kdamonds/1/state': 'off',
      'kdamonds/1/contexts/0/monitoring_attrs/intervals/sample_us': '5000',
    });
    expect(readDamon(root)).toEqual({ running: 1, sampleMs: [500], actions: ['pageout'] });
  });

  it('returns undefined where the kernel has no DAMON admin interface', () => {
    expect(readDamon(join(tmpdir(), 'faultline-no-such-damon'))).toBeUndefined();
  });

  it('sums user and system ticks of the kdamond threads only, in ms', () => {
    const proc = tree({
      // pid (comm) state ppid … utime stime: fields 14 and 15 of stat.
      '78/stat': '78 (kdamond.0) S 2 0 0 0 -1 2097216 0 0 0 0 3 1244 0 0',
      '79/stat': '79 (kdamond.1) S 2 0 0 0 -1 2097216 0 0 0 0 0 6 0 0',
      '80/stat': '80 (node worker) R 1 0 0 0 -1 0 0 0 0 0 900 900 0 0',
      'self/stat': '81 (kdamond.9) S 2 0 0 0 -1 0 0 0 0 0 50 50 0 0',
    });
    expect(kdamondCpuMs(proc)).toBe((3 + 1244 + 6) * 10);
  });

  it('writes a note only when DAMON is on', () => {
    expect(damonNote(undefined, 0, 60)).toBeUndefined();
    expect(damonNote({ running: 0, sampleMs: [], actions: [] }, 0, 60)).toBeUndefined();
    const note = damonNote({ running: 1, sampleMs: [500], actions: ['pageout'] }, 1_234.4, 600);
    expect(note).toContain('sampling every 500 ms, schemes: pageout');
    expect(note).toContain('used 1234 ms of CPU in 600 s');
  });
});
