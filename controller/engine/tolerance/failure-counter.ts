import type { ProbeGuard } from '../../../protocol/experiment-guards.ts';

/** Where a guard stands after one more probe result. */
export interface FailureCount {
  breached: boolean;
  /** Failures that count toward the rule: consecutive ones, or those among the last `n`. */
  failures: number;
  /** Results currently considered (consecutive run length, or up to `n`). */
  considered: number;
}

/**
 * Counts probe failures for a guard: `failAfter: N` breaches on N consecutive failures (a success
 * resets the run); `mOfN: {m, n}` breaches when at least m of the last n results failed.
 */
export class FailureCounter {
  readonly #failAfter: number | undefined;
  readonly #m: number;
  readonly #n: number;
  #consecutive = 0;
  #recent: boolean[] = [];

  constructor(rule: Pick<ProbeGuard, 'failAfter' | 'mOfN'>) {
    this.#failAfter = rule.mOfN ? undefined : (rule.failAfter ?? 1);
    this.#m = rule.mOfN?.m ?? 1;
    this.#n = rule.mOfN?.n ?? 1;
  }

  /** Records one result (`ok` = the probe met its tolerance) and says whether the guard is breached. */
  record(ok: boolean): FailureCount {
    if (this.#failAfter !== undefined) {
      this.#consecutive = ok ? 0 : this.#consecutive + 1;
      return {
        breached: this.#consecutive >= this.#failAfter,
        failures: this.#consecutive,
        considered: this.#consecutive,
      };
    }
    this.#recent.push(!ok);
    if (this.#recent.length > this.#n) this.#recent.shift();
    const failures = this.#recent.filter(Boolean).length;
    return { breached: failures >= this.#m, failures, considered: this.#recent.length };
  }

  reset(): void {
    this.#consecutive = 0;
    this.#recent = [];
  }
}
