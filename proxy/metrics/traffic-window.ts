import type { TrafficStats, WindowReport } from '../../protocol/proxy.ts';
import type { Cohort } from '../active-fault.ts';
import { LogHistogram, logBucketOf } from './log-histogram.ts';
import { SampleRing } from './sample-ring.ts';

/** Slices every exchange is counted in (all, plus faulted or clean, plus its cohort when it has one). */
const ALL = 0;
const FAULTED = 1;
const CLEAN = 2;
const CONTROL = 3;
const TREATMENT = 4;
const SLICES = 5;

export interface TrafficWindowOptions {
  /** Length of the ring in seconds (1 s per bucket); the longest window that can be asked for. Default 300. */
  ringSeconds?: number;
  /** Raw latency samples kept per cohort, newest replacing oldest. Default 10,000. */
  sampleCap?: number;
  /** Clock in epoch ms; tests pass a fake one. Default Date.now. */
  now?: () => number;
}

interface SecondBucket {
  /** Epoch second this bucket holds; -1 = never used. */
  second: number;
  slices: LogHistogram[];
}

function stats(h: LogHistogram): TrafficStats {
  return {
    requests: h.count,
    errors: h.errors,
    errorRate: h.count === 0 ? 0 : h.errors / h.count,
    p50Ms: h.quantileMs(0.5),
    p95Ms: h.quantileMs(0.95),
    p99Ms: h.quantileMs(0.99),
    meanMs: h.meanMs(),
  };
}

/**
 * The last few minutes of one proxy's traffic, in 1-second buckets, so the engine can ask for
 * "p99 and error rate over the last 10 s" per slice. Recording is O(1): find the current second's
 * bucket (reset it if it holds an old second) and count the exchange in up to three slices.
 */
export class TrafficWindow {
  readonly ringSeconds: number;
  private readonly ring: SecondBucket[];
  private readonly now: () => number;
  private readonly samples: Record<Cohort, SampleRing>;

  constructor(opts: TrafficWindowOptions = {}) {
    this.ringSeconds = opts.ringSeconds ?? 300;
    this.now = opts.now ?? Date.now;
    const cap = opts.sampleCap ?? 10_000;
    this.samples = { control: new SampleRing(cap), treatment: new SampleRing(cap) };
    this.ring = Array.from({ length: this.ringSeconds }, () => ({
      second: -1,
      slices: Array.from({ length: SLICES }, () => new LogHistogram()),
    }));
  }

  record(latencyMs: number, isError: boolean, faulted: boolean, cohort: Cohort | undefined): void {
    const nowMs = this.now();
    const second = Math.floor(nowMs / 1000);
    const bucket = this.ring[second % this.ringSeconds]!;
    if (bucket.second !== second) {
      for (const s of bucket.slices) s.reset();
      bucket.second = second;
    }
    const b = logBucketOf(latencyMs);
    bucket.slices[ALL]!.record(latencyMs, b, isError);
    bucket.slices[faulted ? FAULTED : CLEAN]!.record(latencyMs, b, isError);
    if (cohort !== undefined) {
      bucket.slices[cohort === 'treatment' ? TREATMENT : CONTROL]!.record(latencyMs, b, isError);
      this.samples[cohort].push(nowMs, latencyMs);
    }
  }

  /**
   * Stats over the last `seconds` seconds, the current (partial) second included. `seconds` is
   * clamped to 1..ringSeconds.
   */
  report(seconds: number, withSamples = false): Omit<WindowReport, 'proxy'> {
    const span = Math.min(this.ringSeconds, Math.max(1, Math.floor(seconds)));
    const nowMs = this.now();
    const newest = Math.floor(nowMs / 1000);
    const merged = Array.from({ length: SLICES }, () => new LogHistogram());
    for (const bucket of this.ring) {
      if (bucket.second > newest - span && bucket.second <= newest) {
        for (let i = 0; i < SLICES; i++) merged[i]!.merge(bucket.slices[i]!);
      }
    }
    const report: Omit<WindowReport, 'proxy'> = {
      seconds: span,
      all: stats(merged[ALL]!),
      faulted: stats(merged[FAULTED]!),
      clean: stats(merged[CLEAN]!),
      cohorts: { control: stats(merged[CONTROL]!), treatment: stats(merged[TREATMENT]!) },
    };
    if (withSamples) {
      // Same cut as the buckets: everything from the start of the oldest second in the window.
      const sinceMs = (newest - span + 1) * 1000;
      report.samples = {
        control: this.samples.control.since(sinceMs),
        treatment: this.samples.treatment.since(sinceMs),
      };
    }
    return report;
  }
}
