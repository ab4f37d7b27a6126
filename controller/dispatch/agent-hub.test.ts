import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import {
  type AgentMessageInput,
  type HubMessage,
  HubMessage as HubSchema,
  parseFrame,
} from '../../protocol/agent-wire.ts';
import { isFaultlineError } from '../../protocol/errors.ts';
import { AgentHub } from './agent-hub.ts';

/** A scripted agent speaking the wire protocol over a real socket (controller/ may not import agent/). */
class FakeAgent {
  readonly ws: WebSocket;
  readonly received: HubMessage[] = [];
  /** Answers each request; default: ok with an echo receipt. */
  answer: (m: HubMessage) => AgentMessageInput | undefined = (m) =>
    'requestId' in m
      ? { type: 'ack', requestId: m.requestId, ok: true, receipt: { echo: m.type } }
      : undefined;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on('message', (data) => {
      const m = parseFrame(HubSchema, data.toString());
      if (!m) return;
      this.received.push(m);
      const reply = this.answer(m);
      if (reply) this.send(reply);
    });
  }

  async hello(
    token: string,
    extra: Partial<Extract<AgentMessageInput, { type: 'hello' }>> = {},
  ): Promise<void> {
    await once(this.ws, 'open');
    this.send({
      type: 'hello',
      token,
      agentId: 'agent-1',
      labels: { role: 'web' },
      mode: 'host',
      faults: [{ type: 'cpu-stress', paramsSchema: { type: 'object' } }],
      ...extra,
    });
  }

  send(m: AgentMessageInput): void {
    this.ws.send(JSON.stringify(m));
  }

  count(type: HubMessage['type']): number {
    return this.received.filter((m) => m.type === type).length;
  }
}

describe('agent hub', () => {
  let hub: AgentHub;
  const agents: FakeAgent[] = [];
  const connect = () => {
    const a = new FakeAgent(hub.url);
    agents.push(a);
    return a;
  };
  beforeEach(async () => {
    hub = await AgentHub.start({ token: 'secret', heartbeatMs: 1_000, ackTimeoutMs: 300 });
  });
  afterEach(async () => {
    for (const a of agents.splice(0)) a.ws.terminate();
    await hub.close();
  });

  it('refuses a wrong token and accepts the right one with its labels and faults', async () => {
    const bad = connect();
    await bad.hello('wrong');
    const [code] = await once(bad.ws, 'close');
    expect(code).toBe(4001);
    expect(hub.agents()).toEqual([]);

    const good = connect();
    const connected = once(hub, 'agent-connected');
    await good.hello('secret');
    const [info] = await connected;
    expect(info).toMatchObject({
      agentId: 'agent-1',
      labels: { role: 'web' },
      faults: [{ type: 'cpu-stress' }],
    });
    await vi.waitFor(() => expect(good.received[0]).toMatchObject({ type: 'welcome', heartbeatMs: 1_000 }));
  });

  it("resolves apply with the agent's receipt and rejects with the agent's error code", async () => {
    const a = connect();
    await a.hello('secret');
    await once(hub, 'agent-connected');
    const held = await hub.apply('agent-1', {
      faultId: 'f1',
      faultType: 'cpu-stress',
      params: { percent: 5 },
      leaseMs: 3_000,
    });
    expect(held).toMatchObject({ faultId: 'f1', target: 'host', receipt: { echo: 'apply' } });

    a.answer = (m) =>
      'requestId' in m
        ? { type: 'ack', requestId: m.requestId, ok: false, error: { code: 'HALTED', message: 'halted' } }
        : undefined;
    await expect(
      hub.apply('agent-1', { faultId: 'f2', faultType: 'cpu-stress', params: {} }),
    ).rejects.toSatisfy((e) => isFaultlineError(e, 'HALTED'));
  });

  it('rejects a request the agent never acks, after the ack timeout', async () => {
    const a = connect();
    await a.hello('secret');
    await once(hub, 'agent-connected');
    a.answer = () => undefined;
    const t0 = Date.now();
    await expect(
      hub.apply('agent-1', { faultId: 'f', faultType: 'cpu-stress', params: {} }),
    ).rejects.toSatisfy((e) => isFaultlineError(e, 'UPSTREAM_TIMEOUT'));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
  });

  it('renews a held fault every lease/3 until the agent reports it expired', async () => {
    const a = connect();
    await a.hello('secret');
    await once(hub, 'agent-connected');
    await hub.apply('agent-1', { faultId: 'f1', faultType: 'cpu-stress', params: {}, leaseMs: 300 });
    await sleep(1_050);
    // one renewal per 100 ms; timers on a busy machine may slip a little
    expect(a.count('renew')).toBeGreaterThanOrEqual(7);
    expect(a.count('renew')).toBeLessThanOrEqual(11);

    const expired = once(hub, 'fault-expired');
    a.send({ type: 'expired', faultId: 'f1' });
    const [fault] = await expired;
    expect(fault.faultId).toBe('f1');
    const renewsAtExpiry = a.count('renew');
    await sleep(300);
    expect(a.count('renew')).toBe(renewsAtExpiry);
    expect(hub.held()).toEqual([]);
  });

  it('reports the agent lost, then its faults expired once the lease passes without it', async () => {
    const a = connect();
    await a.hello('secret');
    await once(hub, 'agent-connected');
    await hub.apply('agent-1', { faultId: 'f1', faultType: 'cpu-stress', params: {}, leaseMs: 300 });
    const lost = once(hub, 'agent-lost');
    const expired = once(hub, 'fault-expired');
    const t0 = Date.now();
    a.ws.terminate();
    expect((await lost)[0]).toBe('agent-1');
    const [fault, reason] = await expired;
    expect(fault.faultId).toBe('f1');
    expect(reason).toMatch(/unreachable/);
    expect(Date.now() - t0).toBeLessThan(1_000);
  });

  it('keeps renewing after a reconnect when the agent still holds the fault', async () => {
    const a = connect();
    await a.hello('secret');
    await once(hub, 'agent-connected');
    await hub.apply('agent-1', { faultId: 'f1', faultType: 'cpu-stress', params: {}, leaseMs: 600 });
    a.ws.terminate();
    await once(hub, 'agent-lost');
    const b = connect();
    await b.hello('secret', { activeFaults: ['f1'] });
    await once(hub, 'agent-connected');
    await sleep(500);
    expect(b.count('renew')).toBeGreaterThanOrEqual(1);
    expect(hub.held().map((f) => f.faultId)).toEqual(['f1']);
    expect(await hub.revert('agent-1', 'f1')).toEqual({ wasActive: true });
    expect(hub.held()).toEqual([]);
  });

  it('reverts every held fault at once and reports the ones that failed', async () => {
    const a = connect();
    await a.hello('secret');
    await once(hub, 'agent-connected');
    await hub.apply('agent-1', { faultId: 'ok', faultType: 'cpu-stress', params: {}, leaseMs: 3_000 });
    await hub.apply('agent-1', { faultId: 'stuck', faultType: 'cpu-stress', params: {}, leaseMs: 3_000 });
    a.answer = (m) =>
      'requestId' in m
        ? m.type === 'revert' && m.faultId === 'stuck'
          ? {
              type: 'ack',
              requestId: m.requestId,
              ok: false,
              error: { code: 'FAULT_REVERT_FAILED', message: 'EPERM' },
            }
          : { type: 'ack', requestId: m.requestId, ok: true, wasActive: true }
        : undefined;
    const { reverted, failed } = await hub.revertAll();
    expect(reverted.map((f) => f.faultId)).toEqual(['ok']);
    expect(failed.map((f) => [f.fault.faultId, (f.error as { code?: string }).code])).toEqual([
      ['stuck', 'FAULT_REVERT_FAILED'],
    ]);
  });

  it('drops an agent that stops sending anything for three heartbeats', async () => {
    await hub.close();
    hub = await AgentHub.start({ token: 'secret', heartbeatMs: 100 });
    const a = connect();
    await a.hello('secret');
    await once(hub, 'agent-connected');
    const t0 = Date.now();
    await once(hub, 'agent-lost');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  });
});
