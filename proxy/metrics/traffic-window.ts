import type { TrafficStats, WindowReport } from '../../protocol/proxy.ts';
import type { Cohort } from '../active-fault.ts';
import { LogHistogram, logBucketOf } from './log-histogram.ts';
import { SecondReservoir, thin } from './second-reservoir.ts';

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
  /** Raw latency samples kept per cohort per second (a uniform random choice of that second's). Default 500. */
  samplesPerSecond?: number;
  /** Most raw samples per cohort in one report; more are thinned evenly. Default 20,000. */
  maxReportSamples?: number;
  /** Clock in epoch ms; tests pass a fake one. Default Date.now. */
  now?: () => number;
}

interface SecondBucket {
  /** Epoch second this bucket holds; -1 = never used. */
  second: number;
  slices: LogHistogram[];
  samples: Record<Cohort, SecondReservoir>;
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
  private readonly maxReportSamples: number;

  constructor(opts: TrafficWindowOptions = {}) {
    this.ringSeconds = opts.ringSeconds ?? 300;
    this.now = opts.now ?? Date.now;
    const perSecond = opts.samplesPerSecond ?? 500;
    this.maxReportSamples = opts.maxReportSamples ?? 20_000;
    this.ring = Array.from({ length: this.ringSeconds }, () => ({
      second: -1,
      slices: Array.from({ length: SLICES }, () => new LogHistogram()),
      samples: { control: new SecondReservoir(perSecond), treatment: new SecondReservoir(perSecond) },
    }));
  }

  record(latencyMs: number, isError: boolean, faulted: boolean, cohort: Cohort | undefined): void {
    const nowMs = this.now();
    const second = Math.floor(nowMs / 1000);
    const bucket = this.ring[second % this.ringSeconds]!;
    if (bucket.second !== second) {
      for (const s of bucket.slices) s.reset();
      bucket.samples.control.reset();
      bucket.samples.treatment.reset();
      bucket.second = second;
    }
    const b = logBucketOf(latencyMs);
    bucket.slices[ALL]!.record(latencyMs, b, isError);
    bucket.slices[faulted ? FAULTED : CLEAN]!.record(latencyMs, b, isError);
    if (cohort !== undefined) {
      bucket.slices[cohort === 'treatment' ? TREATMENT : CONTROL]!.record(latencyMs, b, isError);
      bucket.samples[cohort].add(latencyMs);
    }
  }

  /**
   * Stats over the last `seconds` seconds, the current (partial) second included. `seconds` is
   * clamped to 1..ringSeconds.
   */
  report(seconds: number, withSamples = false): Omit<WindowReport, 'proxy'> {
    const span = Math.min(this.ringSeconds, Math.max(1, Math.floor(seconds)));
    const newest = Math.floor(this.now() / 1000);
    const merged = Array.from({ length: SLICES }, () => new LogHistogram());
    const inWindow = this.ring
      .filter((b) => b.second > newest - span && b.second <= newest)
      .sort((a, b) => a.second - b.second);
    for (const bucket of inWindow) {
      for (let i = 0; i < SLICES; i++) merged[i]!.merge(bucket.slices[i]!);
    }
    const report: Omit<WindowReport, 'proxy'> = {
      seconds: span,
      all: stats(merged[ALL]!),
      faulted: stats(merged[FAULTED]!),
      clean: stats(merged[CLEAN]!),
      cohorts: { control: stats(merged[CONTROL]!), treatment: stats(merged[TREATMENT]!) },
    };
    if (withSamples) {
      const control: number[] = [];
      const treatment: number[] = [];
      for (const bucket of inWindow) {
        bucket.samples.control.appendTo(control);
        bucket.samples.treatment.appendTo(treatment);
      }
      report.samples = {
        control: thin(control, this.maxReportSamples),
        treatment: thin(treatment, this.maxReportSamples),
      };
    }
    return report;
  }
}
