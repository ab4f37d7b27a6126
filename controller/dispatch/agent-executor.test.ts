import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isFaultlineError } from '../../protocol/errors.ts';
import { AgentExecutor } from './agent-executor.ts';
import { AgentHub } from './agent-hub.ts';
import type { FaultHandle, FaultRequest } from './fault-executor.ts';
import { FakeAgent } from './test-support/fake-agent.ts';

// A real hub on loopback and scripted agents speaking the wire protocol over real sockets
// (controller/ may not import agent/; test/run-agent-faults.test.ts runs real agents). Each fake
// agent keeps the set of faults it holds, so assertions read the agent's side.

function request(id: string, agentId: string, extra: Partial<FaultRequest> = {}): FaultRequest {
  return {
    id,
    targetName: 'hosts',
    target: { kind: 'agent', agentId, on: 'host' },
    type: 'flag',
    direction: 'downstream',
    params: { tag: 't' },
    percent: 100,
    ...extra,
  };
}

describe('agent executor', () => {
  let hub: AgentHub;
  const agents: FakeAgent[] = [];
  const lost: { id: string; reason: string }[] = [];
  let executor: AgentExecutor;

  const connect = async (agentId: string) => {
    const agent = new FakeAgent(hub.url, { agentId });
    agents.push(agent);
    await agent.hello('secret');
    for (let i = 0; i < 100 && !hub.agents().some((a) => a.agentId === agentId); i++) await sleep(10);
    expect(hub.agents().map((a) => a.agentId)).toContain(agentId);
    return agent;
  };

  beforeEach(async () => {
    hub = await AgentHub.start({ token: 'secret', heartbeatMs: 5_000, ackTimeoutMs: 1000 });
    lost.length = 0;
    executor = new AgentExecutor({
      hub,
      leaseMs: 300,
      revertRetryMs: 200,
      events: { lost: (h: FaultHandle, reason: string) => lost.push({ id: h.id, reason }) },
    });
  });

  afterEach(async () => {
    await executor.close();
    for (const a of agents.splice(0)) a.ws.terminate();
    await hub.close();
  });

  it('applies on one agent with an agent-fault undo recipe, has the hub renew it every lease/3, and reverts it once', async () => {
    const agent = await connect('a1');
    const handle = await executor.apply(request('r1.0.a1', 'a1'));
    expect(handle.undo).toEqual({ kind: 'agent-fault', agentId: 'a1', faultId: 'r1.0.a1' });
    expect(executor.undoFor(request('r1.0.a1', 'a1'))).toEqual(handle.undo);
    expect(agent.held.has('r1.0.a1')).toBe(true);
    await sleep(650);
    // 300 ms lease, renewed every 100 ms: about 6 renewals in 650 ms.
    expect(agent.renewals).toBeGreaterThanOrEqual(4);
    expect(lost).toEqual([]);
    expect(await executor.revert(handle)).toEqual({ wasActive: true });
    expect(agent.held.size).toBe(0);
    expect(executor.active()).toEqual([]);
    const renewals = agent.renewals;
    expect(await executor.revert(handle)).toEqual({ wasActive: false });
    await sleep(250);
    expect(agent.renewals).toBe(renewals);
  });

  it('reverts every fault on every agent at once with revertAll', async () => {
    const a1 = await connect('a1');
    const a2 = await connect('a2');
    await executor.apply(request('r2.0.a1', 'a1'));
    await executor.apply(request('r2.0.a2', 'a2'));
    const { reverted, failed } = await executor.revertAll();
    expect(reverted.map((h) => h.id).sort()).toEqual(['r2.0.a1', 'r2.0.a2']);
    expect(failed).toEqual([]);
    expect(a1.held.size + a2.held.size).toBe(0);
  });

  it('reports a fault lost when its agent reverts it on its own, and when its agent goes away', async () => {
    const a1 = await connect('a1');
    const a2 = await connect('a2');
    await executor.apply(request('r3.0.a1', 'a1'));
    await executor.apply(request('r3.0.a2', 'a2'));
    a1.halt();
    for (let i = 0; i < 50 && lost.length < 1; i++) await sleep(10);
    expect(lost).toEqual([{ id: 'r3.0.a1', reason: 'flag on agent a1 is gone: halt' }]);
    a2.ws.terminate();
    for (let i = 0; i < 50 && lost.length < 2; i++) await sleep(10);
    expect(lost[1]).toEqual({ id: 'r3.0.a2', reason: expect.stringContaining('agent a2 disconnected') });
    expect(executor.active()).toEqual([]);
    // Nothing is renewed any more: should a2 come back holding it, its own lease ends it.
    expect(hub.held()).toEqual([]);
  });

  it('does not report a loss for a fault it is reverting', async () => {
    await connect('a1');
    const handle = await executor.apply(request('r4.0.a1', 'a1'));
    await executor.revert(handle);
    await sleep(400);
    expect(lost).toEqual([]);
  });

  it('fails an apply the agent refuses with the agent’s code, and holds nothing', async () => {
    await connect('a1');
    const err = await executor.apply(request('r5.0.a1', 'a1', { type: 'no-such-fault' })).catch((e) => e);
    expect(isFaultlineError(err, 'UNKNOWN_FAULT_TYPE')).toBe(true);
    expect((err as Error).message).toContain('applying no-such-fault on agent a1 (host) failed');
    expect(executor.active()).toEqual([]);
    expect(hub.held()).toEqual([]);
  });

  it('fails an apply on an agent that is not connected with FAULT_APPLY_FAILED', async () => {
    const err = await executor.apply(request('r6.0.ghost', 'ghost')).catch((e) => e);
    expect(isFaultlineError(err, 'FAULT_APPLY_FAILED')).toBe(true);
    expect((err as Error).message).toContain('agent ghost is not connected');
  });

  it('gives up on a revert after its retry budget with FAULT_REVERT_FAILED and the undo recipe', async () => {
    const agent = await connect('a1');
    const handle = await executor.apply(request('r7.0.a1', 'a1'));
    // Stop listening first so the disconnect is not reported as a loss: the revert below is the subject.
    await executor.close();
    agent.ws.terminate();
    for (let i = 0; i < 50 && hub.agents().length > 0; i++) await sleep(10);
    const t0 = Date.now();
    const err = await executor.revert(handle).catch((e) => e);
    expect(isFaultlineError(err, 'FAULT_REVERT_FAILED')).toBe(true);
    expect(err.details).toMatchObject({ undo: { kind: 'agent-fault', agentId: 'a1', faultId: 'r7.0.a1' } });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
