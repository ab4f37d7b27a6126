import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Verdict } from '../protocol/verdict.ts';
import { RunProgress } from './run-progress.ts';

function plainStream(): { stream: NodeJS.WriteStream; text: () => string } {
  const s = new PassThrough();
  let out = '';
  s.on('data', (d: Buffer) => {
    out += d;
  });
  return { stream: s as unknown as NodeJS.WriteStream, text: () => out };
}

describe('run progress', () => {
  it('writes one plain line per change when the stream is not a terminal, and none for repeats', () => {
    const { stream, text } = plainStream();
    const p = new RunProgress({ stream, experiment: 'x', runId: 'r1' });
    p.onProgress({ type: 'phase', phase: 'injecting', at: 0 });
    p.onProgress({ type: 'guard', guard: 'probe:a', ok: true, failures: 0, detail: 'ok', at: 0 });
    p.onProgress({ type: 'guard', guard: 'probe:a', ok: true, failures: 0, detail: 'ok', at: 0 });
    p.onProgress({
      type: 'guard',
      guard: 'probe:a',
      ok: false,
      failures: 1,
      detail: 'p99 300 ms > max 200 ms',
      at: 0,
    });
    p.onProgress({
      type: 'ramp',
      stage: 2,
      of: 4,
      percent: 25,
      stages: [5, 25, 50, 100],
      stageDurationMs: 1000,
      at: 0,
    });
    p.finish();
    const lines = text()
      .trim()
      .split('\n')
      .map((l) => l.replace(/^\[\s*[\d.]+s\] /, ''));
    expect(lines).toEqual([
      'faultline run x (r1)',
      'phase injecting',
      'guard probe:a: ok',
      'guard probe:a: FAILING (1) p99 300 ms > max 200 ms',
      'ramp stage 2/4: 25%',
    ]);
    expect(text()).not.toContain('\x1b[');
  });

  it('formats an aborted verdict with its abort latency, faults and guards', () => {
    const v: Verdict = {
      runId: 'r1',
      experiment: 'x',
      ending: 'aborted',
      reason: 'probe a: p99 300 ms > max 200 ms',
      startedAt: 0,
      endedAt: 12_300,
      durationMs: 12_300,
      hypothesisBefore: { ok: true, samples: 5, probes: [] },
      hypothesisAfter: {
        ok: false,
        samples: 5,
        probes: [{ probe: 'a', ok: false, reasons: ['status 503'], observed: {} }],
      },
      abort: {
        guard: 'probe:a',
        reason: 'p99',
        breachSeenAt: 1,
        abortDecidedAt: 1,
        allFaultsRevertedAt: 8,
        decisionLatencyMs: 0,
        abortLatencyMs: 7,
      },
      faults: [
        {
          id: 'fl:r1:0',
          type: 'latency',
          target: 'api',
          proxy: 'p',
          appliedAt: 1,
          revertedAt: 8,
          percent: 50,
        },
      ],
      guards: [{ name: 'probe:a', kind: 'probe', samples: 9, failures: 3, breached: true }],
      rollbacks: [],
      rampStageReached: 50,
      exitCode: 3,
    };
    const text = RunProgress.formatVerdict(v);
    expect(text).toContain('verdict: ABORTED (exit 3) after 12.3s');
    expect(text).toContain('abort latency 7 ms');
    expect(text).toContain('fault latency on api (fl:r1:0): reverted');
    expect(text).toContain('guard probe:a: 9 samples, 3 failing, BREACHED');
    expect(text).toContain('hypothesis after: did not hold');
    expect(text).toContain('a: status 503');
  });
});
