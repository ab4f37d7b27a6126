import { describe, expect, it } from 'vitest';
import { TrafficWindow } from './traffic-window.ts';

function clock(startMs: number) {
  const c = { t: startMs, now: () => c.t };
  return c;
}

describe('TrafficWindow', () => {
  it('splits traffic into all, faulted, clean and cohorts with error rates', () => {
    const c = clock(1_000_000);
    const w = new TrafficWindow({ now: c.now });
    w.record(10, false, false, undefined);
    w.record(20, true, true, 'treatment');
    w.record(30, false, false, 'control');
    w.record(40, true, true, 'treatment');
    const r = w.report(10);
    expect(r.all.requests).toBe(4);
    expect(r.all.errors).toBe(2);
    expect(r.all.errorRate).toBe(0.5);
    expect(r.faulted).toMatchObject({ requests: 2, errors: 2, errorRate: 1 });
    expect(r.clean).toMatchObject({ requests: 2, errors: 0, errorRate: 0 });
    expect(r.cohorts.treatment.requests).toBe(2);
    expect(r.cohorts.control.requests).toBe(1);
    expect(r.all.meanMs).toBe(25);
    expect(r.all.p99Ms).toBe(40);
    expect(r.samples).toBeUndefined();
  });

  it('forgets traffic older than the asked window and reuses ring buckets', () => {
    const c = clock(5_000_000);
    const w = new TrafficWindow({ now: c.now, ringSeconds: 60 });
    w.record(100, false, false, undefined);
    c.t += 5_000;
    w.record(1, false, false, undefined);
    expect(w.report(3).all.requests).toBe(1);
    expect(w.report(10).all.requests).toBe(2);
    // 60 s later the first second's bucket is reused for a new second and must start empty.
    c.t += 55_000;
    w.record(2, false, false, undefined);
    expect(w.report(60).all.requests).toBe(2);
    expect(w.report(60).all.p99Ms).toBe(2);
    expect(w.report(60).all.p50Ms).toBe(1);
  });

  it('returns raw cohort samples from every second of the window, oldest first, capped per second', () => {
    const c = clock(9_000_000);
    const w = new TrafficWindow({ now: c.now, samplesPerSecond: 3 });
    for (const v of [1, 2, 3, 4]) w.record(v, false, false, 'control');
    w.record(50, false, true, 'treatment');
    c.t += 1_000;
    w.record(9, false, false, 'control');
    const r = w.report(5, true);
    const control = r.samples!.control;
    expect(control).toHaveLength(4);
    expect(control.at(-1)).toBe(9);
    // Three of the first second's four, kept in arrival order.
    expect([...control.slice(0, 3)].sort((a, b) => a - b)).toEqual(control.slice(0, 3));
    expect(r.samples!.treatment).toEqual([50]);
    expect(r.cohorts.control.requests).toBe(5);
    c.t += 10_000;
    expect(w.report(5, true).samples).toEqual({ control: [], treatment: [] });
  });

  it('thins a report to maxReportSamples per cohort', () => {
    const c = clock(1_000);
    const w = new TrafficWindow({ now: c.now, maxReportSamples: 10 });
    for (let i = 0; i < 100; i++) w.record(i, false, false, 'treatment');
    expect(w.report(10, true).samples!.treatment).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
  });

  it('reports zeros and nulls when there is no traffic', () => {
    const r = new TrafficWindow().report(10);
    expect(r.all).toEqual({
      requests: 0,
      errors: 0,
      errorRate: 0,
      p50Ms: null,
      p95Ms: null,
      p99Ms: null,
      meanMs: null,
    });
  });
});
