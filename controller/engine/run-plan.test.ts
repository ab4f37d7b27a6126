import { describe, expect, it } from 'vitest';
import { Experiment } from '../../protocol/experiment.ts';
import type { FaultRequest } from '../dispatch/fault-executor.ts';
import { planRun } from './run-plan.ts';

const undoFor = (r: FaultRequest) => ({
  kind: 'proxy-fault' as const,
  adminUrl: 'http://admin',
  proxy: r.target.proxy,
  faultId: r.id,
  http: { method: 'DELETE' as const, url: `http://admin/faultline/faults/${r.id}` },
});

function experiment(spec: Record<string, unknown>) {
  return Experiment.parse({
    apiVersion: 'faultline/v1',
    kind: 'Experiment',
    metadata: { name: 'plan-test' },
    spec: {
      proxyAdmin: 'http://127.0.0.1:8474',
      targets: { api: { proxy: 'checkout' }, db: { proxy: 'pg' } },
      ...spec,
    },
  });
}

describe('run plan', () => {
  it('lays out faults in method order with waits adding to their start, ids per step and undo recipes', () => {
    const plan = planRun(
      experiment({
        method: [
          { fault: 'latency', target: 'api', params: { delayMs: 100 }, percent: 30, duration: '10s' },
          { wait: '2s' },
          {
            parallel: [
              { fault: 'abort', target: 'api', params: { status: 503 }, duration: '5s' },
              { fault: 'reset', target: 'db', duration: '1s' },
            ],
          },
        ],
      }),
      'r1',
      { undoFor },
    );
    expect(plan.faults.map((f) => [f.id, f.startOffsetMs, f.durationMs, f.request.percent])).toEqual([
      ['fl:r1:0', 0, 10_000, 30],
      ['fl:r1:2.0', 2000, 5000, 100],
      ['fl:r1:2.1', 2000, 1000, 100],
    ]);
    expect(plan.faults[2]!.request.target).toEqual({ kind: 'proxy', proxy: 'pg' });
    expect(plan.faults[0]!.undo.http.url).toBe('http://admin/faultline/faults/fl:r1:0');
    expect(plan.predictedRunningMs).toBe(10_000);
    expect(plan.blastRadius).toEqual({
      targets: ['api', 'db'],
      proxies: ['checkout', 'pg'],
      maxPercent: 100,
      longestFaultMs: 10_000,
      maxConcurrentFaults: 3,
    });
  });

  it('starts every fault at the first ramp stage and predicts the last stage as the most traffic faulted', () => {
    const plan = planRun(
      experiment({
        method: [{ fault: 'latency', target: 'api', params: { delayMs: 100 }, duration: '1m' }],
        rampUp: [5, 25, 50],
      }),
      'r2',
      { undoFor },
    );
    expect(plan.faults[0]!.request.percent).toBe(5);
    expect(plan.rampUp).toEqual({ stages: [5, 25, 50], stageDurationMs: 10_000 });
    expect(plan.blastRadius.maxPercent).toBe(50);
  });

  it('refuses agent targets in a standalone run with UNSUPPORTED', () => {
    const exp = Experiment.parse({
      apiVersion: 'faultline/v1',
      kind: 'Experiment',
      metadata: { name: 'agents' },
      spec: {
        targets: { web: { agents: { labels: { role: 'web' } } } },
        method: [{ fault: 'cpu-stress', target: 'web', duration: '10s' }],
      },
    });
    expect(() => planRun(exp, 'r3', { undoFor })).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
  });
});
