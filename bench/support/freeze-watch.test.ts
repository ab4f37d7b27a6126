import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildFreezeWatch, type FreezeWatch, startFreezeWatch } from './freeze-watch.ts';

let dir: string;
let bin: string;
let watch: FreezeWatch | undefined;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'faultline-freeze-watch-'));
  bin = buildFreezeWatch(dir);
});
afterEach(async () => {
  // A test that failed between SIGSTOP and SIGCONT must not leave the watch stopped.
  try {
    if (watch?.pid) process.kill(watch.pid, 'SIGCONT');
  } catch {
    // already gone
  }
  await watch?.close();
  watch = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('freeze watch', () => {
  it('reports a stretch in which it could not run as one freeze of that length, then starts afresh', async () => {
    watch = startFreezeWatch(bin, undefined);
    await watch.read();
    // Stopping the process is what a descheduled CPU looks like from inside: no wake for 150 ms.
    process.kill(watch.pid!, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, 150));
    process.kill(watch.pid!, 'SIGCONT');
    await new Promise((r) => setTimeout(r, 50));
    const stopped = await watch.read();
    expect(stopped.freezes).toBeGreaterThanOrEqual(1);
    expect(stopped.longestMs).toBeGreaterThanOrEqual(130);
    expect(stopped.frozenMs).toBeGreaterThanOrEqual(stopped.longestMs);
    expect(stopped.seconds).toBeGreaterThan(0.15);
    const next = await watch.read();
    expect(next.longestMs).toBeLessThan(130);
  });
});
