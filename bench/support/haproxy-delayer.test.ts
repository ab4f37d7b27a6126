import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HaproxyDelayer, startHaproxyDelayer } from './haproxy-delayer.ts';
import { STATIC_BODY, startNginxStatic } from './peers.ts';
import { ChildGroup } from './processes.ts';

/**
 * The delay the tests set, ms, and the most an exchange without it may take: far apart, so that a
 * slow moment on a busy test machine cannot pass for a delay or hide one.
 */
const HELD_MS = 600;
const UNHELD_MS = 300;

/** Time of one GET through the delayer, ms, and what it answered. */
async function timedGet(port: number): Promise<{ ms: number; status: number; body: string }> {
  const t0 = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}/`);
  const body = await res.text();
  return { ms: performance.now() - t0, status: res.status, body };
}

// The latency bench's C reference must delay what it is told to, in the direction it is told, and
// stop when reset; otherwise its rows in bench/RESULTS.md say nothing.
describe('HAProxy Lua delayer', () => {
  let group: ChildGroup;
  let dir: string;
  let delayer: HaproxyDelayer;

  beforeAll(async () => {
    group = new ChildGroup();
    dir = mkdtempSync(join(tmpdir(), 'faultline-bench-test-'));
    const upstream = await startNginxStatic({ group, dir });
    delayer = await startHaproxyDelayer({ group, dir }, upstream.port);
  });

  afterAll(async () => {
    await group?.stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes requests straight through until a delay is set', async () => {
    const r = await timedGet(delayer.port);
    expect(r).toMatchObject({ status: 200, body: STATIC_BODY });
    expect(r.ms).toBeLessThan(UNHELD_MS);
  });

  it('holds each request, then each response, for the delay set in that direction, and stops on reset', async () => {
    for (const direction of ['upstream', 'downstream'] as const) {
      await delayer.setDelay(direction, HELD_MS);
      const held = await timedGet(delayer.port);
      expect(held).toMatchObject({ status: 200, body: STATIC_BODY });
      // core.msleep counts in HAProxy's whole-ms clock: allow it to end up to 1 ms early.
      expect(held.ms).toBeGreaterThanOrEqual(HELD_MS - 1);
      await delayer.reset();
      expect((await timedGet(delayer.port)).ms).toBeLessThan(UNHELD_MS);
    }
  });

  it('refuses a delay that is not whole milliseconds', async () => {
    await expect(delayer.setDelay('upstream', 1.5)).rejects.toThrow(/whole ms/);
  });
});
