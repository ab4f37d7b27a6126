import { describe, expect, it } from 'vitest';
import { Target } from '../../protocol/experiment-method.ts';
import type { AgentInfo } from '../dispatch/agent-hub.ts';
import {
  type AgentTargets,
  capabilityProblems,
  chooseAgents,
  matchingAgents,
  selectionReady,
  waitForAgents,
} from './agent-selection.ts';

function agent(
  agentId: string,
  labels: Record<string, string> = {},
  extra: Partial<AgentInfo> = {},
): AgentInfo {
  return {
    agentId,
    labels,
    mode: 'host',
    faults: [{ type: 'cpu-stress', paramsSchema: {}, targets: ['host', 'pid'] }],
    halted: false,
    connectedAt: 0,
    lastSeenAt: 0,
    ...extra,
  };
}

const target = (t: unknown) => Target.parse(t) as AgentTargets[string];
const ids = (agents: AgentInfo[]) => agents.map((a) => a.agentId);

const fleet = [
  agent('web-3', { role: 'web', zone: 'b' }),
  agent('web-1', { role: 'web', zone: 'a' }),
  agent('db-1', { role: 'db', zone: 'a' }),
  agent('web-2', { role: 'web', zone: 'a' }),
];

describe('agent selection', () => {
  it('matches every label and the listed ids, in id order', () => {
    expect(ids(matchingAgents(target({ agents: { labels: { role: 'web' } } }), fleet))).toEqual([
      'web-1',
      'web-2',
      'web-3',
    ]);
    expect(ids(matchingAgents(target({ agents: { labels: { role: 'web', zone: 'a' } } }), fleet))).toEqual([
      'web-1',
      'web-2',
    ]);
    expect(
      ids(matchingAgents(target({ agents: { labels: { zone: 'a' }, ids: ['db-1', 'x'] } }), fleet)),
    ).toEqual(['db-1']);
    expect(ids(matchingAgents(target({ agents: {} }), fleet))).toHaveLength(4);
  });

  it('chooses count or percent (rounded up, at least one) with a seed, the same seed choosing the same agents', () => {
    const web = matchingAgents(target({ agents: { labels: { role: 'web' } } }), fleet);
    const two = target({ agents: { labels: { role: 'web' } }, mode: 'count', value: 2 });
    const a = ids(chooseAgents(two, web, 1));
    expect(a).toHaveLength(2);
    expect(ids(chooseAgents(two, web, 1))).toEqual(a);
    // Different seeds over 3 agents do not all pick the same pair.
    const picks = new Set([1, 2, 3, 4, 5, 6, 7, 8].map((seed) => ids(chooseAgents(two, web, seed)).join()));
    expect(picks.size).toBeGreaterThan(1);
    // The target's own seed wins over the run's.
    const seeded = target({ agents: { labels: { role: 'web' } }, mode: 'count', value: 2, seed: 9 });
    expect(ids(chooseAgents(seeded, web, 1))).toEqual(ids(chooseAgents(seeded, web, 2)));
    expect(chooseAgents(target({ agents: {}, mode: 'percent', value: 1 }), web, 1)).toHaveLength(1);
    expect(chooseAgents(target({ agents: {}, mode: 'percent', value: 50 }), web, 1)).toHaveLength(2);
    expect(chooseAgents(target({ agents: {}, mode: 'count', value: 10 }), web, 1)).toHaveLength(3);
  });

  it('is ready when every listed id is there, when count agents match, or otherwise when one does', () => {
    const byIds = target({ agents: { ids: ['web-1', 'web-9'] } });
    expect(selectionReady(byIds, matchingAgents(byIds, fleet))).toBe(false);
    const three = target({ agents: { labels: { role: 'web' } }, mode: 'count', value: 3 });
    expect(selectionReady(three, matchingAgents(three, fleet))).toBe(true);
    const four = target({ agents: { labels: { role: 'web' } }, mode: 'count', value: 4 });
    expect(selectionReady(four, matchingAgents(four, fleet))).toBe(false);
    const none = target({ agents: { labels: { role: 'cache' } } });
    expect(selectionReady(none, matchingAgents(none, fleet))).toBe(false);
  });

  it('waits until the agents arrive, and says which target had none when they do not', async () => {
    const connected: AgentInfo[] = [];
    const hub = { agents: () => connected };
    const targets = { web: target({ agents: { labels: { role: 'web' } } }) };
    setTimeout(() => connected.push(fleet[0]!), 100);
    const signal = new AbortController().signal;
    const ok = await waitForAgents(hub, targets, { timeoutMs: 2000, seed: 1, signal });
    expect(ok.ok && ids(ok.chosen.get('web')!)).toEqual(['web-3']);

    const t0 = Date.now();
    const missing = await waitForAgents(
      hub,
      { db: target({ agents: { labels: { role: 'db' } } }) },
      { timeoutMs: 200, seed: 1, signal },
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(missing).toEqual({
      ok: false,
      reason:
        'no agents for target db (labels role=db) within 200 ms of waiting (connected: web-3); nothing was applied',
    });
  });

  it('reports params that do not fit the schema the agent advertised for the type', () => {
    const strict = agent(
      's',
      {},
      {
        faults: [
          {
            type: 'cpu-stress',
            targets: ['host'],
            paramsSchema: {
              type: 'object',
              properties: { percent: { type: 'number', minimum: 1, maximum: 100 } },
              required: ['percent'],
              additionalProperties: false,
            },
          },
        ],
      },
    );
    const check = (params: unknown) =>
      capabilityProblems([{ id: 'f', type: 'cpu-stress', agent: strict, on: 'host', params }]);
    expect(check({ percent: 50 })).toEqual([]);
    expect(check({ percent: 500 })).toEqual([
      expect.stringMatching(/^params of cpu-stress do not fit what agent s accepts: percent: .*100/),
    ]);
    expect(check({ percent: 5, nope: 1 })).toHaveLength(1);
  });

  it('reports a fault type an agent lacks, a target kind it does not act on, and a halted agent', () => {
    expect(capabilityProblems([{ id: 'f1', type: 'cpu-stress', agent: fleet[0]!, on: 'host' }])).toEqual([]);
    expect(
      capabilityProblems([{ id: 'f1', type: 'docker-kill', agent: fleet[0]!, on: 'container:x' }]),
    ).toEqual(['agent web-3 does not offer fault type docker-kill (it offers: cpu-stress)']);
    expect(capabilityProblems([{ id: 'f1', type: 'cpu-stress', agent: fleet[0]!, on: 'netns:lab' }])).toEqual(
      [
        'fault type cpu-stress on agent web-3 does not act on netns targets (netns:lab); it acts on: host, pid',
      ],
    );
    expect(
      capabilityProblems([
        { id: 'f1', type: 'cpu-stress', agent: agent('h', {}, { halted: true }), on: 'host' },
      ]),
    ).toEqual(['agent h is halted (`faultline agent resume` lifts it)']);
  });

  it('checks a fault sent for `host` to a sidecar against the target the sidecar is scoped to', () => {
    const sidecar = agent(
      'side',
      {},
      {
        mode: 'sidecar',
        target: 'container:api',
        faults: [{ type: 'docker-pause', paramsSchema: {}, targets: ['container', 'containers'] }],
      },
    );
    expect(capabilityProblems([{ id: 'f', type: 'docker-pause', agent: sidecar, on: 'host' }])).toEqual([]);
    const pidSidecar = { ...sidecar, target: 'pid:42' };
    expect(capabilityProblems([{ id: 'f', type: 'docker-pause', agent: pidSidecar, on: 'host' }])).toEqual([
      'fault type docker-pause on agent side does not act on pid targets (pid:42); it acts on: container, containers',
    ]);
  });
});
