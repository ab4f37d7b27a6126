import type { Probe as ProbeSpec } from '../../protocol/experiment-probes.ts';
import type { ProbeCheck } from '../../protocol/verdict.ts';
import { createProbe } from './probes/create-probe.ts';
import type { Probe, ProbeSample } from './probes/probe.ts';
import { SlidingWindow } from './stats/sliding-window.ts';
import type { Baseline } from './tolerance/baseline.ts';
import { evaluateTolerance } from './tolerance/evaluate-tolerance.ts';

/** Default window when a probe has no tolerance, ms. */
const DEFAULT_WINDOW_MS = 10_000;

export interface CheckOutcome {
  sample: ProbeSample;
  check: ProbeCheck;
  /** Epoch ms the result was known (the sample's end). */
  seenAt: number;
}

/**
 * One hypothesis probe with its own sliding window of samples: run it, judge the sample against
 * the probe's tolerance (over the window, relative to the baseline when one is given).
 */
export class ProbeChecker {
  readonly spec: ProbeSpec;
  private readonly probe: Probe;
  private readonly history: SlidingWindow<ProbeSample>;
  private readonly baseline: Baseline | undefined;

  constructor(spec: ProbeSpec, proxyAdmin: string | null, baseline?: Baseline) {
    this.spec = spec;
    this.probe = createProbe(spec, { proxyAdmin: proxyAdmin ?? undefined });
    this.history = new SlidingWindow({ windowMs: spec.tolerance?.window ?? DEFAULT_WINDOW_MS });
    this.baseline = baseline;
  }

  get name(): string {
    return this.spec.name;
  }

  /** Runs the probe once without recording or judging it (opens connections, warms caches). */
  async warmUp(signal: AbortSignal): Promise<void> {
    await this.probe.run(signal);
  }

  async check(signal: AbortSignal): Promise<CheckOutcome> {
    const sample = await this.probe.run(signal);
    this.history.push(sample);
    const seenAt = Date.now();
    const history = this.history.items(seenAt);
    // Without a written tolerance the defaults still apply (transport ok, 2xx/3xx, exit 0).
    const r = evaluateTolerance(this.spec.tolerance, sample, history, this.baseline);
    const reasons = [...r.reasons];
    if (!sample.ok && reasons.length === 0) reasons.push(sample.error ?? 'probe failed');
    return {
      sample,
      check: { probe: this.name, ok: r.ok && sample.ok, reasons, observed: r.observed },
      seenAt,
    };
  }
}
