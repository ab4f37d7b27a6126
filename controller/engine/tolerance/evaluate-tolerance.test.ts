import { describe, expect, it } from 'vitest';
import { Tolerance } from '../../../protocol/experiment-tolerance.ts';
import type { ProbeSample } from '../probes/probe.ts';
import { captureBaseline } from './baseline.ts';
import { evaluateTolerance } from './evaluate-tolerance.ts';
import { globMatches } from './sample-checks.ts';

const tol = (input: unknown) => Tolerance.parse(input);
const http = (over: Partial<ProbeSample> = {}): ProbeSample => ({
  probe: 'p',
  kind: 'http',
  ok: true,
  at: 100_000,
  latencyMs: 20,
  status: 200,
  headers: { 'content-type': 'application/json; charset=utf-8' },
  body: '{"ok":true,"items":[{"id":1},{"id":2}]}',
  ...over,
});

describe('per-sample tolerance checks', () => {
  it('passes a healthy response and fails a wrong status with a reason', () => {
    const t = tol({ status: [200, 204] });
    expect(evaluateTolerance(t, http(), [], undefined)).toMatchObject({
      ok: true,
      reasons: [],
      observed: { status: 200 },
    });
    const bad = evaluateTolerance(t, http({ status: 503 }), [], undefined);
    expect(bad.ok).toBe(false);
    expect(bad.reasons).toEqual(['status 503, expected 200 or 204']);
  });

  it('expects 2xx/3xx when no status is written, and fails transport errors with their message', () => {
    expect(evaluateTolerance(undefined, http({ status: 302 }), [], undefined).ok).toBe(true);
    expect(evaluateTolerance(undefined, http({ status: 500 }), [], undefined).reasons).toEqual([
      'status 500, expected 2xx or 3xx',
    ]);
    const down = evaluateTolerance(
      undefined,
      { probe: 'p', kind: 'http', ok: false, at: 1, error: 'connect ECONNREFUSED' },
      [],
      undefined,
    );
    expect(down.reasons).toEqual(['probe failed: connect ECONNREFUSED']);
  });

  it('reads JSON bodies with JSONPath and matches body regexes', () => {
    expect(
      evaluateTolerance(tol({ body: { jsonPath: '$.ok', equals: true } }), http(), [], undefined).ok,
    ).toBe(true);
    expect(
      evaluateTolerance(tol({ body: { jsonPath: '$.items[*].id', equals: [1, 2] } }), http(), [], undefined)
        .ok,
    ).toBe(true);
    const wrong = evaluateTolerance(
      tol({ body: { jsonPath: '$.ok', equals: false } }),
      http(),
      [],
      undefined,
    );
    expect(wrong.reasons).toEqual(['$.ok is true, expected false']);
    expect(
      evaluateTolerance(tol({ body: { jsonPath: '$.missing' } }), http(), [], undefined).reasons,
    ).toEqual(['$.missing selects nothing in the body']);
    expect(
      evaluateTolerance(tol({ body: { jsonPath: '$.ok' } }), http({ body: 'oops' }), [], undefined)
        .reasons[0],
    ).toContain('body is not JSON');
    expect(evaluateTolerance(tol({ body: { regex: '"ok":\\s*true' } }), http(), [], undefined).ok).toBe(true);
    expect(evaluateTolerance(tol({ body: { regex: '^nope' } }), http(), [], undefined).ok).toBe(false);
  });

  it('matches header globs with case-insensitive names', () => {
    expect(globMatches('application/json*', 'application/json; charset=utf-8')).toBe(true);
    expect(globMatches('text/*', 'application/json')).toBe(false);
    expect(globMatches('a.b', 'axb')).toBe(false);
    expect(
      evaluateTolerance(tol({ headers: { 'Content-Type': 'application/json*' } }), http(), [], undefined).ok,
    ).toBe(true);
    expect(evaluateTolerance(tol({ headers: { 'x-cache': 'HIT' } }), http(), [], undefined).reasons).toEqual([
      'header x-cache is missing, expected "HIT"',
    ]);
  });

  it('checks exit code (default 0) and stdout of commands', () => {
    const cmd = (exitCode: number | null, stdout: string): ProbeSample => ({
      probe: 'c',
      kind: 'command',
      ok: true,
      at: 1,
      exitCode,
      stdout,
    });
    expect(evaluateTolerance(undefined, cmd(0, ''), [], undefined).ok).toBe(true);
    expect(evaluateTolerance(undefined, cmd(2, ''), [], undefined).reasons).toEqual([
      'exit code 2, expected 0',
    ]);
    expect(evaluateTolerance(tol({ exitCode: [0, 1] }), cmd(1, ''), [], undefined).ok).toBe(true);
    const t = tol({ exitCode: 0, stdout: { regex: 'accepting' } });
    expect(evaluateTolerance(t, cmd(0, '/tmp:5432 - accepting connections\n'), [], undefined).ok).toBe(true);
    expect(evaluateTolerance(t, cmd(0, 'no response\n'), [], undefined).reasons[0]).toContain(
      'stdout does not match /accepting/',
    );
  });

  it('bounds values with min, max, equals and relative-to-baseline limits', () => {
    const v = (value: number): ProbeSample => ({ probe: 'q', kind: 'prometheus', ok: true, at: 1, value });
    expect(evaluateTolerance(tol({ value: { min: 0, max: 5 } }), v(3), [], undefined).ok).toBe(true);
    expect(evaluateTolerance(tol({ value: { min: 0, max: 5 } }), v(7), [], undefined).reasons).toEqual([
      'value 7 > max 5',
    ]);
    expect(evaluateTolerance(tol({ value: { equals: 3 } }), v(4), [], undefined).reasons).toEqual([
      'value 4, expected exactly 3',
    ]);
    const baseline = captureBaseline([v(10), v(12), v(11)]);
    expect(baseline.value).toBe(11);
    const rel = tol({ value: { max: '1.5x baseline' } });
    expect(evaluateTolerance(rel, v(16), [], baseline).ok).toBe(true);
    expect(evaluateTolerance(rel, v(17), [], baseline).reasons).toEqual([
      'value 17 > max 16.5 (1.5x baseline 11)',
    ]);
    expect(evaluateTolerance(rel, v(1), [], undefined).reasons).toEqual([
      'value max: no baseline to take 1.5x of',
    ]);
  });
});

describe('window tolerance checks', () => {
  // 20 samples one second apart with latencies 10, 20, ... 200 ms.
  const history = Array.from({ length: 20 }, (_, i) =>
    http({ at: 100_000 + i * 1000, latencyMs: 10 * (i + 1) }),
  );
  const last = history.at(-1)!;

  it('computes latency quantiles over the samples inside the window only', () => {
    // window 10 s ending at the last sample: latencies 110..200 → nearest-rank p50 = 150, p99 = 200.
    const t = tol({ latencyMs: { p50: { max: 150 }, p99: { max: 190 } }, window: '10s' });
    const r = evaluateTolerance(t, last, history, undefined);
    expect(r.observed['latencyMs.p50']).toBe(150);
    expect(r.observed['latencyMs.p99']).toBe(200);
    expect(r.reasons).toEqual(['p99 latency 200 ms > max 190 ms']);
  });

  it('holds p99 against a multiple of the baseline captured before the fault', () => {
    const before = Array.from({ length: 5 }, (_, i) => http({ at: i, latencyMs: 100 + i }));
    const baseline = captureBaseline(before, tol({}));
    expect(baseline.latencyMs.p99).toBe(104);
    expect(baseline.errorRate).toBe(0);
    const t = tol({ latencyMs: { p99: { max: '1.2x baseline' } }, window: '5s' });
    const fast = [0, 1, 2].map((i) => http({ at: 200_000 + i * 1000, latencyMs: 120 }));
    expect(evaluateTolerance(t, fast[2]!, fast, baseline).ok).toBe(true);
    const slow = [...fast, http({ at: 203_000, latencyMs: 130 })];
    expect(evaluateTolerance(t, slow[3]!, slow, baseline).reasons).toEqual([
      'p99 latency 130 ms > max 124.8 ms (1.2x baseline 104 ms)',
    ]);
  });

  it('tolerates single failures up to errorRate over the window, counting failed checks as errors', () => {
    const samples = Array.from({ length: 10 }, (_, i) =>
      http({ at: 300_000 + i * 100, status: i === 4 ? 500 : 200 }),
    );
    const loose = tol({ status: 200, errorRate: { max: 0.1 }, window: '10s' });
    const failing = evaluateTolerance(loose, samples[4]!, samples.slice(0, 5), undefined);
    // 1 of 5 = 20 % at that moment
    expect(failing.ok).toBe(false);
    expect(failing.reasons).toEqual(['error rate 0.2 (1 of 5) > max 0.1']);
    const later = evaluateTolerance(loose, samples[9]!, samples, undefined);
    expect(later).toMatchObject({ ok: true, observed: { errorRate: 0.1, windowCount: 10 } });
    // Without errorRate, the failing sample fails on its own.
    expect(evaluateTolerance(tol({ status: 200 }), samples[4]!, samples, undefined).ok).toBe(false);
  });
});

describe('proxyMetrics tolerances', () => {
  const slice = (p99Ms: number | null, errors: number, requests = 200) => ({
    requests,
    errors,
    errorRate: requests ? errors / requests : 0,
    p50Ms: p99Ms === null ? null : p99Ms / 4,
    p95Ms: p99Ms === null ? null : p99Ms / 2,
    p99Ms,
    meanMs: p99Ms === null ? null : p99Ms / 3,
  });
  const pm = (s: ReturnType<typeof slice>): ProbeSample => ({
    probe: 'pm',
    kind: 'proxyMetrics',
    ok: true,
    at: 1,
    slice: s,
  });

  it('uses the slice figures for latency and error rate', () => {
    const t = tol({ latencyMs: { p99: { max: 300 } }, errorRate: { max: 0.005 } });
    expect(evaluateTolerance(t, pm(slice(250, 1)), [], undefined)).toMatchObject({
      ok: true,
      observed: { errorRate: 0.005 },
    });
    expect(evaluateTolerance(t, pm(slice(350, 2)), [], undefined).reasons).toEqual([
      'p99 latency 350 ms > max 300 ms',
      'error rate 0.01 (2 of 200) > max 0.005',
    ]);
  });

  it('passes an empty slice with no data and refuses statistics the proxy does not report', () => {
    const t = tol({ latencyMs: { p99: { max: 300 } } });
    expect(evaluateTolerance(t, pm(slice(null, 0, 0)), [], undefined)).toMatchObject({
      ok: true,
      observed: { 'latencyMs.p99': 'no data' },
    });
    expect(
      evaluateTolerance(tol({ latencyMs: { p90: { max: 1 } } }), pm(slice(1, 0)), [], undefined).reasons[0],
    ).toContain('p90 latency is not reported');
  });

  it('takes the baseline of proxy windows as the median of each figure', () => {
    const b = captureBaseline([pm(slice(100, 0)), pm(slice(300, 2)), pm(slice(200, 1))]);
    expect(b.latencyMs.p99).toBe(200);
    expect(b.errorRate).toBe(0.005);
    const t = tol({ latencyMs: { p99: { max: '1.2x baseline' } } });
    expect(evaluateTolerance(t, pm(slice(250, 0)), [], b).reasons).toEqual([
      'p99 latency 250 ms > max 240 ms (1.2x baseline 200 ms)',
    ]);
  });
});
