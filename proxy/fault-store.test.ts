import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FaultlineError } from '../protocol/errors.ts';
import { MAX_LEASE_MS } from '../protocol/lease.ts';
import type { ProxyMode } from '../protocol/proxy.ts';
import { buildAdminApp } from './admin/admin-app.ts';
import { FaultStore } from './fault-store.ts';
import { ProxyMetrics } from './metrics/proxy-metrics.ts';
import { ProxyManager } from './proxy-manager.ts';

const modes: Record<string, ProxyMode> = { db: 'tcp', web: 'http' };
let store: FaultStore;

beforeEach(() => {
  store = new FaultStore((name) => modes[name]);
});

afterEach(() => {
  store.reset();
  vi.useRealTimers();
});

const tcpLatency = { type: 'latency', params: { delayMs: 10 } };

function thrown(fn: () => unknown): FaultlineError {
  try {
    fn();
  } catch (err) {
    if (err instanceof FaultlineError) return err;
    throw err;
  }
  throw new Error('expected a FaultlineError');
}

describe('fault leases', () => {
  const thirtyDaysMs = 30 * 24 * 3_600_000;

  it('refuses a lease longer than an hour, saying the limit in ms, and applies nothing', () => {
    const err = thrown(() => store.apply('db', { ...tcpLatency, id: 'long', leaseMs: thirtyDaysMs }));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toContain(`at most ${MAX_LEASE_MS} ms (1 hour)`);
    expect(store.list()).toEqual([]);
  });

  it('keeps a fault with the longest allowed lease until the lease runs out', () => {
    vi.useFakeTimers();
    const view = store.apply('db', { ...tcpLatency, id: 'hour', leaseMs: MAX_LEASE_MS });
    expect(view.expiresAt).toBe(Date.now() + MAX_LEASE_MS);
    vi.advanceTimersByTime(MAX_LEASE_MS - 1);
    expect(store.get('hour')).toBeDefined();
    vi.advanceTimersByTime(1);
    expect(store.get('hour')).toBeUndefined();
  });

  it('refuses a renewal longer than an hour and keeps the lease it had', () => {
    vi.useFakeTimers();
    const view = store.apply('db', { ...tcpLatency, id: 'renewed', leaseMs: 1_000 });
    const err = thrown(() => store.renew('renewed', thirtyDaysMs));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toContain(`at most ${MAX_LEASE_MS} ms`);
    expect(store.get('renewed')?.expiresAt).toBe(view.expiresAt);
    vi.advanceTimersByTime(1_000);
    expect(store.get('renewed')).toBeUndefined();
  });

  it('renews with a new lease of up to an hour', () => {
    vi.useFakeTimers();
    store.apply('db', { ...tcpLatency, id: 'renewed', leaseMs: 1_000 });
    expect(store.renew('renewed', MAX_LEASE_MS).expiresAt).toBe(Date.now() + MAX_LEASE_MS);
    vi.advanceTimersByTime(MAX_LEASE_MS - 1);
    expect(store.get('renewed')).toBeDefined();
  });

  it('makes a renewal’s new lease the fault’s own, for the view and for later renewals', () => {
    vi.useFakeTimers();
    store.apply('db', { ...tcpLatency, id: 'relet', leaseMs: 1_000 });
    expect(store.renew('relet', 5_000).leaseMs).toBe(5_000);
    expect(store.get('relet')?.view().leaseMs).toBe(5_000);
    vi.advanceTimersByTime(4_000);
    // A renewal without a lease now re-arms 5 s, not the 1 s the fault was applied with.
    expect(store.renew('relet').expiresAt).toBe(Date.now() + 5_000);
    vi.advanceTimersByTime(4_999);
    expect(store.get('relet')).toBeDefined();
    vi.advanceTimersByTime(1);
    expect(store.get('relet')).toBeUndefined();
  });
});

describe('HTTP-only fields on a TCP proxy', () => {
  it.each([
    ['match', { match: { methods: ['GET'] } }],
    ['cohort', { cohort: { treatmentPercent: 50 } }],
  ])('refuses %s, naming it, and leaves nothing applied', (field, extra) => {
    const err = thrown(() => store.apply('db', { ...tcpLatency, id: 'f', ...extra }));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.statusCode).toBe(400);
    expect(err.message).toContain(`\`${field}\``);
    expect(err.message).toContain('proxy db is in tcp mode');
    expect(err.details).toMatchObject({ proxy: 'db', mode: 'tcp', fields: [field] });
    expect(store.list()).toEqual([]);
  });

  it('names both fields when both are given', () => {
    const err = thrown(() =>
      store.apply('db', { ...tcpLatency, match: { path: '/x' }, cohort: { treatmentPercent: 10 } }),
    );
    expect(err.details.fields).toEqual(['match', 'cohort']);
  });

  it('leaves an active fault of the same id in place when its replacement is refused', () => {
    store.apply('db', { ...tcpLatency, id: 'keep' });
    thrown(() => store.apply('db', { ...tcpLatency, id: 'keep', match: { methods: ['GET'] } }));
    expect(store.get('keep')?.spec.match).toBeUndefined();
    expect(store.forProxy('db')).toHaveLength(1);
  });

  it('still applies a TCP fault without them, acting on every connection', () => {
    const view = store.apply('db', { ...tcpLatency, id: 'plain' });
    expect(view).toMatchObject({ id: 'plain', proxy: 'db', type: 'latency' });
    expect(store.get('plain')?.admit()).toBe(true);
  });

  it('still accepts match and cohort on an HTTP proxy', () => {
    const view = store.apply('web', {
      type: 'abort',
      params: { status: 503 },
      match: { methods: ['GET'] },
      cohort: { treatmentPercent: 50 },
    });
    expect(view.match).toEqual({ methods: ['GET'] });
    expect(view.cohort).toEqual({ treatmentPercent: 50 });
  });
});

describe('refusals over the admin API', () => {
  // A disabled proxy has a mode but no listener, so no socket is opened.
  async function withAdmin(run: (app: ReturnType<typeof buildAdminApp>) => Promise<void>) {
    const metrics = new ProxyMetrics();
    const manager = new ProxyManager({ metrics });
    const app = buildAdminApp({ manager, metrics, version: 'test' });
    try {
      await manager.add({ name: 'db', listen: '127.0.0.1:0', upstream: '127.0.0.1:1', enabled: false });
      await run(app);
    } finally {
      await app.close();
      await manager.close(0);
    }
  }

  it('answers 400 INVALID_INPUT naming `match` when it is sent to a TCP proxy', async () => {
    await withAdmin(async (app) => {
      const res = await app.inject({
        method: 'POST',
        url: '/faultline/proxies/db/faults',
        payload: { ...tcpLatency, match: { path: '/orders' } },
      });
      expect(res.statusCode).toBe(400);
      const body = res.json();
      expect(body).toMatchObject({ code: 'INVALID_INPUT', details: { fields: ['match'] } });
      expect(body.message).toContain('`match`');
      const list = await app.inject({ method: 'GET', url: '/faultline/proxies/db/faults' });
      expect(list.json()).toEqual([]);
    });
  });

  it('answers 400 INVALID_INPUT with the limit to a lease or renewal over an hour', async () => {
    await withAdmin(async (app) => {
      const long = await app.inject({
        method: 'POST',
        url: '/faultline/proxies/db/faults',
        payload: { ...tcpLatency, leaseMs: MAX_LEASE_MS + 1 },
      });
      expect(long.statusCode).toBe(400);
      expect(long.json().message).toContain(`at most ${MAX_LEASE_MS} ms`);

      const applied = await app.inject({
        method: 'POST',
        url: '/faultline/proxies/db/faults',
        payload: { ...tcpLatency, id: 'f1' },
      });
      expect(applied.statusCode).toBe(201);
      const renew = await app.inject({
        method: 'POST',
        url: '/faultline/faults/f1/renew',
        payload: { leaseMs: MAX_LEASE_MS + 1 },
      });
      expect(renew.statusCode).toBe(400);
      expect(renew.json()).toMatchObject({ code: 'INVALID_INPUT' });
      expect(renew.json().message).toContain(`at most ${MAX_LEASE_MS} ms`);
    });
  });
});
