import { describe, expect, it } from 'vitest';
import type { ConditionResult } from './latency-conditions.ts';
import { modeReport, type SoundnessLimits } from './latency-report.ts';

const LIMITS: SoundnessLimits = {
  clientLagP50Ms: 1,
  clientLagP99Ms: 5,
  maxErrorShare: 0.001,
  saturatedMs: 10,
  loadSideP50Ms: 0.25,
  hostFrozenShare: 0.01,
};

/** A run of 1,000 answers: `p50` for most of them, `tail` for the slowest 1 %. */
function result(label: string, p50: number, tail: number): ConditionResult {
  const latenciesMs = new Float64Array(1_000).fill(p50);
  latenciesMs.fill(tail, 990);
  return {
    label,
    latenciesMs,
    sendLagMs: new Float64Array(1_000),
    scheduled: 1_000,
    errors: 0,
    queued: 0,
    perRound: [{ p99Ms: tail }],
  };
}

function report(directP50: number, freeze?: ConditionResult['freeze']) {
  return modeReport({
    mode: 'http',
    heading: 'heading',
    delayMs: 100,
    direct: result('direct to upstream (no proxy)', directP50, 0.2),
    proxies: [
      {
        base: result('proxy, no fault', 0.2, 3),
        faulted: [
          {
            direction: 'downstream',
            result: { ...result('proxy + 100 ms fault, downstream', 100.8, 104), freeze },
          },
        ],
        judged: true,
      },
    ],
    limits: LIMITS,
  });
}

describe('latency report verdicts', () => {
  it('judges the fault when the same load sent straight to the upstream answers promptly', () => {
    const r = report(0.09);
    expect(r.checks.map((c) => c.met)).toEqual([true, true]);
    expect(r.markdown).not.toContain('Verdicts void');
  });

  it('voids the verdicts when the direct run shows the client and upstream queued at this rate', () => {
    const r = report(0.45);
    expect(r.checks.map((c) => c.met)).toEqual([undefined, undefined]);
    expect(r.markdown).toContain(
      'direct p50 0.450 ms > 0.25 ms (the client and upstream queued at this rate)',
    );
  });

  it("voids the p99 verdict, not the p50 one, when the proxy's CPU was frozen for 1 % of the run", () => {
    const frozen = { seconds: 10, freezes: 1, frozenMs: 100.9, longestMs: 100.9, realtime: true };
    const r = report(0.09, frozen);
    expect(r.checks.map((c) => c.met)).toEqual([true, undefined]);
    expect(r.markdown).toContain("the proxy's CPU did not run for 100.9 ms in 10.0 s");
    const brief = { ...frozen, frozenMs: 30, longestMs: 30 };
    expect(report(0.09, brief).checks.map((c) => c.met)).toEqual([true, true]);
  });

  it("lists each round's added p99 beside the pooled one, so a round that set the tail shows", () => {
    const base = {
      ...result('proxy, no fault', 0.2, 3),
      perRound: [
        { p99Ms: 3, cpuPercent: 61 },
        { p99Ms: 40, cpuPercent: 93 },
      ],
    };
    const faulted = {
      ...result('proxy + 100 ms fault, downstream', 100.8, 104),
      perRound: [{ p99Ms: 106.5 }, { p99Ms: 190.25 }],
    };
    const r = modeReport({
      mode: 'http',
      heading: 'heading',
      delayMs: 100,
      direct: result('direct to upstream (no proxy)', 0.09, 0.2),
      proxies: [{ base, faulted: [{ direction: 'downstream', result: faulted }], judged: true }],
      limits: LIMITS,
    });
    expect(r.markdown).toContain(
      'Per round, proxy: added p99 (downstream) — round 1: 103.5 ms, no-fault CPU 61 %; round 2: 150.3 ms, no-fault CPU 93 %.',
    );
    expect(report(0.09).markdown).not.toContain('Per round');
  });

  it("sets the proxy's added latency beside the bare delayer's, and gives the delayer no verdict", () => {
    // The slowest 2 % at `p99`, so the 99th percentile is that value.
    const run = (label: string, p50: number, p99: number): ConditionResult => {
      const r = result(label, p50, p99);
      r.latenciesMs.fill(p99, 980);
      return r;
    };
    const r = modeReport({
      mode: 'tcp',
      heading: 'heading',
      delayMs: 100,
      direct: result('direct to upstream (no proxy)', 0.09, 0.2),
      proxies: [
        {
          base: run('proxy, no fault', 0.2, 3),
          faulted: [{ direction: 'downstream', result: run('proxy + 100 ms fault, downstream', 100.8, 107) }],
          judged: true,
        },
        {
          base: run('bare Node delayer, no fault', 0.2, 2),
          faulted: [
            {
              direction: 'downstream',
              result: run('bare Node delayer + 100 ms fault, downstream', 100.1, 105),
            },
          ],
          judged: false,
          reference: true,
        },
      ],
      limits: LIMITS,
    });
    expect(r.markdown).toContain(
      'Faultline against the bare Node delayer, same load and rounds — downstream: added p99 104.0 ms against ' +
        '103.0 ms (ours ÷ theirs 1.01), added p50 100.6 ms against 99.9 ms.',
    );
    expect(r.checks.map((c) => [c.what, c.met])).toEqual([
      ['tcp: added p50, downstream', true],
      ['tcp: added p99, downstream', true],
    ]);
  });

  it("gives a probe-less peer's CPU as the mean of its per-run readings in the diagnostics", () => {
    const base = {
      ...result('HAProxy Lua delayer, no fault', 0.2, 3),
      perRound: [
        { p99Ms: 3, cpuPercent: 20 },
        { p99Ms: 3, cpuPercent: 31 },
      ],
    };
    const r = modeReport({
      mode: 'http',
      heading: 'heading',
      delayMs: 100,
      direct: result('direct to upstream (no proxy)', 0.09, 0.2),
      proxies: [{ base, faulted: [], judged: false, reference: true }],
      limits: LIMITS,
    });
    // run | client send lag | waited for a connection | proxy CPU | ...
    expect(r.markdown).toMatch(/\| HAProxy Lua delayer, no fault \| [^|]+ \| 0 \| 26 % \|/);
  });
});
