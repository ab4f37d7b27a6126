import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Experiment } from '../../protocol/experiment.ts';
import { AgentHub } from '../dispatch/agent-hub.ts';
import { FakeAgent } from '../dispatch/test-support/fake-agent.ts';
import { SqliteRunStore } from '../store/sqlite-run-store.ts';
import { runExperiment } from './run-experiment.ts';

// The engine with agent targets, through a real hub on loopback and scripted agents: choice,
// waiting, capability checks before anything is applied, losses, and the target budget.

const FLAG = { type: 'flag', paramsSchema: {}, targets: ['host' as const, 'pid' as const] };

function experiment(spec: Record<string, unknown>) {
  return Experiment.parse({
    apiVersion: 'faultline/v1',
    kind: 'Experiment',
    metadata: { name: 'agents-engine' },
    spec: {
      settings: { probeInterval: '100ms', steadyStateSamples: 1, leaseMs: 600, seed: 5 },
      ...spec,
    },
  });
}

describe('run engine with agent targets', () => {
  let hub: AgentHub;
  const agents: FakeAgent[] = [];

  const connect = async (agentId: string, labels: Record<string, string>, faults = [FLAG]) => {
    const agent = new FakeAgent(hub.url, { agentId, labels, faults });
    agents.push(agent);
    await agent.hello('secret');
    for (let i = 0; i < 100 && !hub.agents().some((a) => a.agentId === agentId); i++) await sleep(10);
    return agent;
  };

  const run = async (spec: Record<string, unknown>, waitForAgentsMs = 1000, withHub = true) => {
    const store = new SqliteRunStore(':memory:');
    const verdict = await runExperiment({
      experiment: experiment(spec),
      store,
      ...(withHub ? { agentHub: hub } : {}),
      waitForAgentsMs,
    });
    const events = await store.events(verdict.runId);
    await store.close();
    return { verdict, events };
  };

  beforeEach(async () => {
    hub = await AgentHub.start({ token: 'secret', heartbeatMs: 5_000, ackTimeoutMs: 1000 });
  });

  afterEach(async () => {
    for (const a of agents.splice(0)) a.ws.terminate();
    await hub.close();
  });

  it('chooses `count` of the matching agents with the run’s seed, applies on each with the target’s `on`, and reverts', async () => {
    const web = [await connect('web-1', { role: 'web' }), await connect('web-2', { role: 'web' })];
    const db = await connect('db-1', { role: 'db' });
    const spec = {
      targets: { web: { agents: { labels: { role: 'web' } }, mode: 'count', value: 1, on: 'pid:42' } },
      method: [{ fault: 'flag', target: 'web', duration: '300ms' }],
    };
    const first = await run(spec);
    expect(first.verdict.ending).toBe('completed');
    const applied = web.filter((a) => a.applies.length > 0);
    expect(applied).toHaveLength(1);
    expect(applied[0]!.applies).toEqual([
      { faultId: `${first.verdict.runId}.0.${applied[0]!.agentId}`, target: 'pid:42' },
    ]);
    expect(applied[0]!.held.size).toBe(0);
    expect(db.applies).toEqual([]);
    // The same seed over the same agents chooses the same one again.
    const second = await run(spec);
    expect(second.verdict.faults.map((f) => f.agentId)).toEqual([applied[0]!.agentId]);
    expect(second.events.find((e) => e.type === 'run-planned')!.data.agentSeed).toBe(5);
  });

  it('waits in the planned phase for an agent that connects late', async () => {
    setTimeout(() => void connect('late', { role: 'web' }), 300);
    const { verdict, events } = await run(
      {
        targets: { web: { agents: { labels: { role: 'web' } } } },
        method: [{ fault: 'flag', target: 'web', duration: '100ms' }],
      },
      3000,
    );
    expect(verdict.ending).toBe('completed');
    expect(verdict.faults).toEqual([expect.objectContaining({ agentId: 'late', type: 'flag' })]);
    expect(events.find((e) => e.type === 'run-planned')!.at - verdict.startedAt).toBeGreaterThanOrEqual(250);
  });

  it('fails before any probe or apply when a chosen agent does not offer the fault type or target kind', async () => {
    const agent = await connect('web-1', { role: 'web' }, [
      { type: 'other', paramsSchema: {}, targets: ['host'] },
    ]);
    const { verdict, events } = await run({
      hypothesis: { probes: [{ name: 'p', command: { run: ['true'] } }] },
      targets: { web: { agents: { labels: { role: 'web' } }, on: 'netns:lab' } },
      method: [{ fault: 'flag', target: 'web', duration: '1s' }],
    });
    expect(verdict.ending).toBe('failed');
    expect(verdict.reason).toBe(
      'the chosen agents cannot run this experiment: agent web-1 does not offer fault type flag (it offers: other); nothing was applied',
    );
    expect(verdict.hypothesisBefore).toBeNull();
    expect(events.map((e) => e.type)).not.toContain('hypothesis-checked');
    expect(events.some((e) => e.type.startsWith('fault-'))).toBe(false);
    expect(agent.applies).toEqual([]);
  });

  it('fails with nothing applied when the experiment selects agents and the run has no hub', async () => {
    const { verdict } = await run(
      {
        targets: { web: { agents: {} } },
        method: [{ fault: 'flag', target: 'web', duration: '1s' }],
      },
      1000,
      false,
    );
    expect(verdict.ending).toBe('failed');
    expect(verdict.reason).toBe(
      'targets web select agents, and this run has no agent hub; nothing was applied',
    );
  });

  it('ends failed at once, journaling fault-lost, when an agent goes away mid-run', async () => {
    const agent = await connect('web-1', { role: 'web' });
    setTimeout(() => agent.ws.terminate(), 400);
    const t0 = Date.now();
    const { verdict, events } = await run({
      targets: { web: { agents: { labels: { role: 'web' } } } },
      method: [{ fault: 'flag', target: 'web', duration: '20s' }],
    });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(verdict.ending).toBe('failed');
    expect(verdict.reason).toContain(
      `fault ${verdict.runId}.0.web-1 was lost on its target: agent web-1 disconnected`,
    );
    expect(events.find((e) => e.type === 'fault-lost')?.data.faultId).toBe(`${verdict.runId}.0.web-1`);
  });

  it('counts each agent against the budget’s maxTargets and refuses the one too many as a breach', async () => {
    const a = await connect('web-1', { role: 'web' });
    const b = await connect('web-2', { role: 'web' });
    const { verdict } = await run({
      targets: { web: { agents: { labels: { role: 'web' } } } },
      method: [{ fault: 'flag', target: 'web', duration: '2s' }],
      guards: [{ budget: { maxTargets: 1 } }],
    });
    expect(verdict.ending).toBe('aborted');
    expect(verdict.abort?.guard).toBe('budget:maxTargets');
    // Both start together: the second is refused before the first reached its agent, and the
    // abort stops that one too. Whatever was applied is reverted.
    expect(a.applies.length + b.applies.length).toBeLessThanOrEqual(1);
    expect(a.held.size + b.held.size).toBe(0);
    expect(verdict.abort?.reason).toContain('would fault more than 1 targets');
  });

  it('aborts on a guard and reverts every agent fault, the abort latency covering them', async () => {
    const up = [await connect('web-1', { role: 'web' }), await connect('web-2', { role: 'web' })];
    const dir = mkdtempSync(join(tmpdir(), 'faultline-engine-agents-'));
    const marker = join(dir, 'broken');
    try {
      // The probe fails once the marker exists; the marker appears once both agents hold their fault.
      const watch = setInterval(() => {
        if (up.every((a) => a.held.size === 1)) writeFileSync(marker, '');
      }, 20);
      const { verdict, events } = await run({
        hypothesis: { probes: [{ name: 'calm', command: { run: ['test', '!', '-e', marker] } }] },
        targets: { web: { agents: { labels: { role: 'web' } } } },
        method: [{ fault: 'flag', target: 'web', duration: '20s' }],
        guards: [{ probe: 'calm', every: '100ms' }],
      }).finally(() => clearInterval(watch));
      expect(verdict.ending).toBe('aborted');
      expect(up.every((a) => a.applies.length === 1 && a.held.size === 0)).toBe(true);
      const seq = (type: string) => events.filter((e) => e.type === type).map((e) => e.seq);
      expect(seq('fault-reverted')).toHaveLength(2);
      expect(Math.max(...seq('fault-reverted'))).toBeLessThan(seq('all-faults-reverted')[0]!);
      expect(seq('abort-decided')[0]).toBeLessThan(Math.min(...seq('fault-reverted')));
      expect(verdict.abort!.abortLatencyMs).toBeLessThan(1000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
