import type { ProxyFaultSpec, ProxyFaultView } from '../protocol/proxy.ts';
import { hash32, seededRandom } from '../protocol/seeded-random.ts';
import type { FaultDefinition } from './faults/fault-definition.ts';
import { compileMatch, type RequestFacts, type RequestMatcher } from './request-match.ts';

export type Cohort = 'control' | 'treatment';

/**
 * One fault active on one proxy: its parsed spec, its behaviour, and the per-request (HTTP) or
 * per-connection (TCP) decision of whether it acts. Built by the FaultStore; the data path only
 * calls `cohortOf`, `admit` and `release`.
 */
export class ActiveFault<B = unknown> {
  readonly id: string;
  readonly proxy: string;
  /** Replaced, never mutated: a renewal with a new lease swaps in a copy (see `relet`). */
  spec: ProxyFaultSpec & { id: string };
  readonly definition: FaultDefinition<unknown, B>;
  readonly behavior: B;
  readonly appliedAt = Date.now();
  /** Epoch ms when the lease runs out; null = no lease. */
  expiresAt: number | null = null;
  affected = 0;
  inFlight = 0;
  private readonly sample: () => number;
  private readonly matcher: RequestMatcher;

  constructor(init: {
    proxy: string;
    spec: ProxyFaultSpec & { id: string; seed: number };
    definition: FaultDefinition<unknown, B>;
    params: unknown;
  }) {
    this.id = init.spec.id;
    this.proxy = init.proxy;
    this.spec = init.spec;
    this.definition = init.definition;
    this.sample = seededRandom(init.spec.seed);
    // Behaviour randomness (jitter, distributions) gets its own stream so that sampling
    // decisions stay reproducible whatever the behaviour draws.
    this.behavior = init.definition.create(init.params, {
      random: seededRandom(init.spec.seed ^ 0x9e3779b9),
    });
    this.matcher = compileMatch(init.spec.match);
  }

  /** Cohort of a request under this fault's cohort rule, or undefined when it has none. */
  cohortOf(headers: RequestFacts['headers']): Cohort | undefined {
    const rule = this.spec.cohort;
    if (!rule) return undefined;
    let roll: number;
    if (rule.header) {
      const raw = headers[rule.header.toLowerCase()];
      const value = Array.isArray(raw) ? raw.join(',') : raw;
      // Requests without the header fall in control: they cannot be assigned stickily.
      if (value === undefined) return 'control';
      roll = (hash32(value, this.spec.seed ?? 0) % 10_000) / 100;
    } else roll = this.sample() * 100;
    return roll < rule.treatmentPercent ? 'treatment' : 'control';
  }

  /**
   * Decides whether this fault acts on one request (pass its facts) or one connection (none).
   * When it returns true the caller must call `release()` once the exchange ends. A connection has
   * no facts and no cohort; the FaultStore refuses `match` and `cohort` on TCP proxies, which is why
   * they need no handling here.
   */
  admit(facts?: RequestFacts, cohort?: Cohort): boolean {
    if (facts && !this.matcher(facts)) return false;
    if (this.spec.cohort && cohort !== 'treatment') return false;
    if (this.spec.maxConcurrent !== undefined && this.inFlight >= this.spec.maxConcurrent) return false;
    if (this.spec.percent < 100 && this.sample() * 100 >= this.spec.percent) return false;
    this.inFlight++;
    this.affected++;
    return true;
  }

  /** Makes `leaseMs` (ms, 1 to MAX_LEASE_MS) this fault's lease, for the view and later renewals. */
  relet(leaseMs: number): void {
    this.spec = { ...this.spec, leaseMs };
  }

  release(): void {
    if (this.inFlight > 0) this.inFlight--;
  }

  view(): ProxyFaultView {
    return {
      ...this.spec,
      proxy: this.proxy,
      appliedAt: this.appliedAt,
      expiresAt: this.expiresAt,
      affected: this.affected,
    };
  }
}
