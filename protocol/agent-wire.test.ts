import { describe, expect, it } from 'vitest';
import { AgentMessage, AgentTarget, actsOn, HubMessage, parseFrame, targetKind } from './agent-wire.ts';

describe('agent wire messages', () => {
  it('parses a hello with defaults for active faults and halted', () => {
    const hello = parseFrame(
      AgentMessage,
      JSON.stringify({
        type: 'hello',
        token: 't',
        agentId: 'web-1',
        labels: { role: 'web' },
        mode: 'host',
        faults: [{ type: 'cpu-stress', paramsSchema: { type: 'object' } }],
      }),
    );
    expect(hello).toMatchObject({ type: 'hello', activeFaults: [], halted: false });
  });

  it('rejects unknown fields, unknown types and bad JSON', () => {
    expect(
      parseFrame(AgentMessage, '{"type":"heartbeat","activeFaults":0,"halted":false,"x":1}'),
    ).toBeUndefined();
    expect(parseFrame(AgentMessage, '{"type":"nope"}')).toBeUndefined();
    expect(parseFrame(HubMessage, '{not json')).toBeUndefined();
  });

  it('carries an error code from the closed set in a failed ack', () => {
    const ok = parseFrame(
      AgentMessage,
      '{"type":"ack","requestId":"r","ok":false,"error":{"code":"HALTED","message":"m"}}',
    );
    expect(ok).toMatchObject({ ok: false, error: { code: 'HALTED' } });
    expect(
      parseFrame(
        AgentMessage,
        '{"type":"ack","requestId":"r","ok":false,"error":{"code":"OOPS","message":"m"}}',
      ),
    ).toBeUndefined();
  });

  it('requires a positive lease on apply and renew', () => {
    const apply = {
      type: 'apply',
      requestId: 'r',
      faultId: 'f',
      faultType: 'disk-fill',
      target: 'host',
      params: {},
    };
    expect(parseFrame(HubMessage, JSON.stringify({ ...apply, leaseMs: 1500 }))).toBeDefined();
    expect(parseFrame(HubMessage, JSON.stringify({ ...apply, leaseMs: 0 }))).toBeUndefined();
  });

  it('accepts host, pid, container, label-selected containers, service and netns targets only', () => {
    for (const t of [
      'host',
      'pid:42',
      'container:api',
      'containers:app=web',
      'containers:app=web,tier=',
      'service:checkout',
      'netns:lab-1',
    ])
      expect(AgentTarget.safeParse(t).success).toBe(true);
    for (const t of ['pid:x', 'vm:1', '', 'containers:', 'containers:app', 'netns:a/b'])
      expect(AgentTarget.safeParse(t).success).toBe(false);
  });

  it('lets faults on containers take a service target, and nothing else outside their kinds', () => {
    expect(actsOn(['host', 'pid', 'container'], 'service:api')).toBe(true);
    expect(actsOn(['container', 'containers'], 'service:api')).toBe(true);
    expect(actsOn(['host'], 'service:api')).toBe(false);
    expect(actsOn(['host', 'pid'], 'netns:lab')).toBe(false);
    expect(actsOn(['netns'], 'netns:lab')).toBe(true);
  });

  it('names the kind of a target', () => {
    expect(targetKind('host')).toBe('host');
    expect(targetKind('containers:app=web')).toBe('containers');
    expect(targetKind('netns:lab')).toBe('netns');
  });
});
