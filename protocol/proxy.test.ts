import { describe, expect, it } from 'vitest';
import { MAX_LEASE_MS } from './lease.ts';
import { ProxyConfig, ProxyFaultSpec, ProxyPatch, RenewRequest } from './proxy.ts';

describe('proxy wire shapes', () => {
  it('fills a new proxy with the tcp mode, no labels and enabled', () => {
    const p = ProxyConfig.parse({ name: 'db', listen: '127.0.0.1:0', upstream: '[::1]:5432' });
    expect(p).toMatchObject({ mode: 'tcp', labels: {}, enabled: true });
  });

  it('keeps omitted fields out of a patch so an update never resets them', () => {
    expect(ProxyPatch.parse({ upstream: '127.0.0.1:9000' })).toEqual({ upstream: '127.0.0.1:9000' });
  });

  it('rejects unknown keys and a listen address without a port', () => {
    expect(ProxyConfig.safeParse({ name: 'x', listen: '127.0.0.1', upstream: '127.0.0.1:1' }).success).toBe(
      false,
    );
    expect(ProxyPatch.safeParse({ upstrem: '127.0.0.1:1' }).success).toBe(false);
  });

  it('gives a fault a 15 s lease, the downstream direction and 100 % by default', () => {
    expect(ProxyFaultSpec.parse({ type: 'latency' })).toMatchObject({
      leaseMs: 15_000,
      direction: 'downstream',
      percent: 100,
      params: {},
    });
  });

  it("caps a fault lease and a renewal at an hour, which stays under Node timers' 2^31-1 ms", () => {
    expect(MAX_LEASE_MS).toBeLessThan(2 ** 31 - 1);
    expect(ProxyFaultSpec.safeParse({ type: 'latency', leaseMs: MAX_LEASE_MS }).success).toBe(true);
    const long = ProxyFaultSpec.safeParse({ type: 'latency', leaseMs: MAX_LEASE_MS + 1 });
    expect(long.error?.issues[0]?.message).toMatch(/at most 3600000 ms \(1 hour\)/);
    expect(RenewRequest.safeParse({ leaseMs: MAX_LEASE_MS + 1 }).success).toBe(false);
    expect(RenewRequest.safeParse({ leaseMs: 0 }).success).toBe(false);
  });
});
