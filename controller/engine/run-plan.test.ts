import { describe, expect, it } from 'vitest';
import { Experiment } from '../../protocol/experiment.ts';
import type { AgentInfo } from '../dispatch/agent-hub.ts';
import type { FaultRequest, UndoRecipe } from '../dispatch/fault-executor.ts';
import { planRun } from './run-plan.ts';

const undoFor = (r: FaultRequest): UndoRecipe =>
  r.target.kind === 'proxy'
    ? {
        kind: 'proxy-fault',
        adminUrl: 'http://admin',
        proxy: r.target.proxy,
        faultId: r.id,
        http: { method: 'DELETE', url: `http://admin/faultline/faults/${r.id}` },
      }
    : { kind: 'agent-fault', agentId: r.target.agentId, faultId: r.id };

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
    expect(plan.faults[0]!.undo).toMatchObject({ http: { url: 'http://admin/faultline/faults/fl:r1:0' } });
    expect(plan.predictedRunningMs).toBe(10_000);
    expect(plan.blastRadius).toEqual({
      targets: ['api', 'db'],
      proxies: ['checkout', 'pg'],
      agents: [],
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

  it('makes one fault per chosen agent with ids <runId>.<step>.<agentId>, whole (100 %) even when proxy faults ramp', () => {
    const exp = Experiment.parse({
      apiVersion: 'faultline/v1',
      kind: 'Experiment',
      metadata: { name: 'agents' },
      spec: {
        proxyAdmin: 'http://127.0.0.1:8474',
        targets: {
          api: { proxy: 'checkout' },
          web: { agents: { labels: { role: 'web' } }, on: 'containers:app=shop' },
        },
        method: [
          {
            parallel: [
              { fault: 'latency', target: 'api', params: { delayMs: 100 }, duration: '10s' },
              { fault: 'docker-kill', target: 'web', params: {}, duration: '5s' },
            ],
          },
        ],
        rampUp: [10, 50],
      },
    });
    const chosen = new Map([['web', [agent('a1'), agent('a2')]]]);
    const plan = planRun(exp, 'r3', { undoFor }, chosen);
    expect(plan.faults.map((f) => [f.id, f.request.percent, f.request.target])).toEqual([
      ['fl:r3:0.0', 10, { kind: 'proxy', proxy: 'checkout' }],
      ['r3.0.1.a1', 100, { kind: 'agent', agentId: 'a1', on: 'containers:app=shop' }],
      ['r3.0.1.a2', 100, { kind: 'agent', agentId: 'a2', on: 'containers:app=shop' }],
    ]);
    expect(plan.faults[1]!.undo).toEqual({ kind: 'agent-fault', agentId: 'a1', faultId: 'r3.0.1.a1' });
    expect(plan.targets[1]).toMatchObject({ name: 'web', kind: 'agents', agents: ['a1', 'a2'] });
    expect(plan.blastRadius).toMatchObject({
      targets: ['api', 'web'],
      proxies: ['checkout'],
      agents: ['a1', 'a2'],
      maxPercent: 50,
      maxConcurrentFaults: 3,
    });
  });

  it('lays an agent step out once for agent * when no agents were chosen (faultline plan), and not at all when none matched', () => {
    const exp = Experiment.parse({
      apiVersion: 'faultline/v1',
      kind: 'Experiment',
      metadata: { name: 'agents' },
      spec: {
        targets: { web: { agents: { ids: ['a1'] } } },
        method: [{ fault: 'cpu-stress', target: 'web', params: { percent: 50 }, duration: '10s' }],
      },
    });
    const offline = planRun(exp, 'r4', { undoFor });
    expect(offline.faults.map((f) => f.id)).toEqual(['r4.0.*']);
    expect(offline.targets[0]).toMatchObject({ kind: 'agents', on: 'host', agents: null });
    const none = planRun(exp, 'r4', { undoFor }, new Map());
    expect(none.faults).toEqual([]);
    expect(none.targets[0]).toMatchObject({ agents: [] });
  });
});

function agent(agentId: string): AgentInfo {
  return { agentId, labels: {}, mode: 'host', faults: [], halted: false, connectedAt: 0, lastSeenAt: 0 };
}
