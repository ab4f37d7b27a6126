import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FaultlineError } from '../../protocol/errors.ts';
import { Experiment } from '../../protocol/experiment.ts';
import type { TrafficStats, WindowReport } from '../../protocol/proxy.ts';
import type {
  ExecutorEvents,
  FaultExecutor,
  FaultHandle,
  FaultRequest,
  UndoRecipe,
} from '../dispatch/fault-executor.ts';
import { SqliteRunStore } from '../store/sqlite-run-store.ts';
import { runExperiment } from './run-experiment.ts';

/** In-memory executor: records every call; hooks let a test react to applies. */
class FakeExecutor implements FaultExecutor {
  readonly calls: string[] = [];
  readonly on = new Map<string, FaultHandle>();
  failApplyOf: string | null = null;
  onApply: (r: FaultRequest) => void = () => {};
  readonly events: ExecutorEvents;

  constructor(events: ExecutorEvents) {
    this.events = events;
  }

  undoFor(r: FaultRequest): UndoRecipe {
    return {
      kind: 'proxy-fault',
      adminUrl: 'fake',
      proxy: r.target.kind === 'proxy' ? r.target.proxy : '',
      faultId: r.id,
      http: { method: 'DELETE', url: `fake/${r.id}` },
    };
  }

  async apply(r: FaultRequest): Promise<FaultHandle> {
    this.calls.push(`apply ${r.id} ${r.percent}`);
    if (r.type === this.failApplyOf) throw new FaultlineError('FAULT_APPLY_FAILED', `cannot apply ${r.type}`);
    const h = { id: r.id, request: r, undo: this.undoFor(r), appliedAt: Date.now(), leaseMs: 1000 };
    this.on.set(r.id, h);
    this.onApply(r);
    return h;
  }

  update(h: FaultHandle, c: { percent?: number }): Promise<FaultHandle> {
    return this.apply({ ...h.request, ...c });
  }

  async renew(): Promise<void> {}

  async revert(h: FaultHandle): Promise<{ wasActive: boolean }> {
    this.calls.push(`revert ${h.id}`);
    return { wasActive: this.on.delete(h.id) };
  }

  async revertAll() {
    const all = [...this.on.values()];
    for (const h of all) await this.revert(h);
    return { reverted: all, failed: [] };
  }

  active(): FaultHandle[] {
    return [...this.on.values()];
  }

  async close(): Promise<void> {}
}

const dirs: string[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

function stats(requests: number, errors: number): TrafficStats {
  return {
    requests,
    errors,
    errorRate: requests ? errors / requests : 0,
    p50Ms: 1,
    p95Ms: 1,
    p99Ms: 1,
    meanMs: 1,
  };
}

/** A stand-in for the proxy admin API's window endpoint, answering `report()` for every proxy. */
async function fakeWindows(report: () => WindowReport): Promise<string> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(report()));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Deterministic spread of `n` latencies around `centerMs` (± 2 ms). */
function latencies(n: number, centerMs: number): number[] {
  return Array.from({ length: n }, (_, i) => centerMs + ((i * 37) % 41) / 10 - 2);
}

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'faultline-engine-'));
  dirs.push(d);
  return d;
}

function experiment(spec: Record<string, unknown>, proxyAdmin = 'http://127.0.0.1:9') {
  return Experiment.parse({
    apiVersion: 'faultline/v1',
    kind: 'Experiment',
    metadata: { name: 'engine-test' },
    spec: {
      proxyAdmin,
      targets: { api: { proxy: 'checkout' }, db: { proxy: 'pg' } },
      settings: { probeInterval: '100ms', steadyStateSamples: 1, leaseMs: 1000 },
      ...spec,
    },
  });
}

async function run(
  spec: Record<string, unknown>,
  setup: (x: FakeExecutor) => void = () => {},
  signal?: AbortSignal,
  proxyAdmin?: string,
) {
  const store = new SqliteRunStore(':memory:');
  let fake!: FakeExecutor;
  const verdict = await runExperiment({
    experiment: experiment(spec, proxyAdmin),
    ...(proxyAdmin ? { proxyAdminUrl: proxyAdmin } : {}),
    store,
    ...(signal ? { signal } : {}),
    createExecutor: (events) => {
      fake = new FakeExecutor(events);
      setup(fake);
      return fake;
    },
  });
  const events = await store.events(verdict.runId);
  await store.close();
  return { verdict, fake, events };
}

describe('run engine', () => {
  it('ramps every fault through the stages while the hypothesis holds, then reverts it', async () => {
    const { verdict, fake, events } = await run({
      hypothesis: { probes: [{ name: 'fine', command: { run: ['true'] } }] },
      method: [{ fault: 'latency', target: 'api', params: { delayMs: 1 }, duration: '700ms' }],
      rampUp: { stages: [10, 50, 100], stageDuration: '150ms' },
    });
    expect(verdict.ending).toBe('completed');
    expect(fake.calls).toEqual([
      `apply fl:${verdict.runId}:0 10`,
      `apply fl:${verdict.runId}:0 50`,
      `apply fl:${verdict.runId}:0 100`,
      `revert fl:${verdict.runId}:0`,
    ]);
    expect(events.filter((e) => e.type === 'ramp-stage').map((e) => e.data.percent)).toEqual([10, 50, 100]);
    expect(verdict.rampStageReached).toBe(100);
  });

  it('stops the ramp at the stage where the hypothesis fails and aborts', async () => {
    const marker = join(tempDir(), 'broken');
    const { verdict, fake } = await run(
      {
        hypothesis: { probes: [{ name: 'fine', command: { run: ['test', '!', '-e', marker] } }] },
        method: [{ fault: 'latency', target: 'api', params: { delayMs: 1 }, duration: '5s' }],
        rampUp: { stages: [10, 50, 100], stageDuration: '150ms' },
      },
      (x) => {
        x.onApply = (r) => {
          if (r.percent >= 50) writeFileSync(marker, '');
        };
      },
    );
    expect(verdict.ending).toBe('aborted');
    expect(verdict.abort?.guard).toBe('ramp');
    expect(verdict.rampStageReached).toBe(50);
    expect(fake.calls.some((c) => c.endsWith(' 100'))).toBe(false);
    expect(fake.on.size).toBe(0);
    expect(existsSync(marker)).toBe(true);
  });

  it('ends interrupted, with every fault reverted and the hypothesis checked again, when its signal aborts', async () => {
    const stop = new AbortController();
    const { verdict, fake } = await run(
      { method: [{ fault: 'latency', target: 'api', params: { delayMs: 1 }, duration: '10s' }] },
      (x) => {
        x.onApply = () => setTimeout(() => stop.abort('interrupted'), 50);
      },
      stop.signal,
    );
    expect(verdict.ending).toBe('interrupted');
    expect(verdict.exitCode).toBe(5);
    expect(verdict.hypothesisAfter).toEqual({ ok: true, samples: 1, probes: [] });
    expect(fake.on.size).toBe(0);
    expect(verdict.durationMs).toBeLessThan(5000);
  });

  it('ends failed and reverts the faults already applied when another fault cannot be applied', async () => {
    const { verdict, fake, events } = await run(
      {
        method: [
          { fault: 'latency', target: 'api', params: { delayMs: 1 }, duration: '10s' },
          { fault: 'abort', target: 'db', params: {}, duration: '10s' },
        ],
      },
      (x) => {
        x.failApplyOf = 'abort';
      },
    );
    expect(verdict.ending).toBe('failed');
    expect(verdict.reason).toContain('cannot apply abort');
    expect(fake.on.size).toBe(0);
    expect(events.map((e) => e.type)).toContain('fault-apply-failed');
    expect(events.map((e) => e.type)).toContain('all-faults-reverted');
  });

  it('aborts, as a budget breach, before faulting more targets than maxTargets', async () => {
    const { verdict, fake } = await run({
      method: [
        {
          parallel: [
            { fault: 'latency', target: 'api', params: { delayMs: 1 }, duration: '10s' },
            { fault: 'latency', target: 'db', params: { delayMs: 1 }, duration: '10s' },
          ],
        },
      ],
      guards: [{ budget: { maxTargets: 1 } }],
    });
    expect(verdict.ending).toBe('aborted');
    expect(verdict.abort?.guard).toBe('budget:maxTargets');
    // The second apply is refused before the first one's journal write lands: nothing is applied.
    expect(fake.calls.filter((c) => c.startsWith('apply'))).toHaveLength(0);
    expect(fake.on.size).toBe(0);
  });

  it('ends failed when a fault is lost on its target (its lease ran out)', async () => {
    const { verdict } = await run(
      { method: [{ fault: 'latency', target: 'api', params: { delayMs: 1 }, duration: '10s' }] },
      (x) => {
        x.onApply = (r) =>
          setTimeout(() => {
            const h = x.on.get(r.id)!;
            x.on.delete(r.id);
            x.events.lost?.(h, 'lease expired');
          }, 50);
      },
    );
    expect(verdict.ending).toBe('failed');
    expect(verdict.reason).toContain('lease expired');
  });

  it('aborts on the failed-request budget when the proxy window shows more failures than allowed', async () => {
    const admin = await fakeWindows(() => {
      const all = stats(200, 20);
      return {
        proxy: 'checkout',
        seconds: 5,
        all,
        faulted: all,
        clean: stats(0, 0),
        cohorts: { control: stats(0, 0), treatment: stats(0, 0) },
      };
    });
    const { verdict, fake } = await run(
      {
        method: [{ fault: 'abort', target: 'api', params: { status: 503 }, duration: '10s' }],
        guards: [{ budget: { failedRequestsPercent: 5, proxy: 'checkout', window: '5s' } }],
      },
      () => {},
      undefined,
      admin,
    );
    expect(verdict.ending).toBe('aborted');
    expect(verdict.abort?.guard).toBe('budget0');
    expect(verdict.abort?.reason).toContain('10.00% of requests through checkout failed');
    expect(fake.on.size).toBe(0);
  });

  it('aborts when the treatment cohort is clearly slower than control, and not when they match', async () => {
    const window = (shiftMs: number) => (): WindowReport => ({
      proxy: 'checkout',
      seconds: 1,
      all: stats(400, 0),
      faulted: stats(200, 0),
      clean: stats(200, 0),
      cohorts: { control: stats(200, 0), treatment: stats(200, 0) },
      samples: { control: latencies(200, 100), treatment: latencies(200, 100 + shiftMs) },
    });
    const spec = {
      method: [
        {
          fault: 'latency',
          target: 'api',
          params: { delayMs: 5 },
          cohort: { treatmentPercent: 50 },
          duration: '600ms',
        },
      ],
      guards: [
        { compare: { proxy: 'checkout', metric: 'latency', alpha: 0.05, minSamples: 50, every: '100ms' } },
      ],
    };
    const slower = await run(spec, () => {}, undefined, await fakeWindows(window(5)));
    expect(slower.verdict.ending).toBe('aborted');
    expect(slower.verdict.abort?.guard).toBe('compare:checkout');
    const same = await run(spec, () => {}, undefined, await fakeWindows(window(0)));
    expect(same.verdict.ending).toBe('completed');
    expect(same.verdict.guards[0]).toMatchObject({ name: 'compare:checkout', breached: false });
    expect(same.verdict.guards[0]!.samples).toBeGreaterThan(2);
  });
});
