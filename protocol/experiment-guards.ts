import { z } from 'zod';
import { Duration, DurationAtLeast, RefName } from './experiment-fields.ts';
import { ProxyName } from './proxy.ts';

/** Guards: what aborts a run while its faults are on (a probe failing, a budget spent, cohorts apart). */

export const ProbeGuard = z
  .strictObject({
    /** A hypothesis probe by name. */
    probe: RefName,
    /** How often it runs. Min 100ms, default 1s. */
    every: DurationAtLeast(100).default(1000),
    /** Abort after this many consecutive failures. Default 1. */
    failAfter: z.number().int().min(1).optional(),
    /** Abort when `m` of the last `n` runs failed. */
    mOfN: z
      .strictObject({ m: z.number().int().min(1), n: z.number().int().min(1) })
      .refine((x) => x.m <= x.n, { message: '`m` must be at most `n`' })
      .optional(),
  })
  .superRefine((g, ctx) => {
    if (g.failAfter !== undefined && g.mOfN !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'use `failAfter` or `mOfN`, not both',
        path: ['mOfN'],
        params: { at: 'key' },
      });
    }
  })
  .transform((g) => (g.mOfN === undefined ? { ...g, failAfter: g.failAfter ?? 1 } : g));
export type ProbeGuard = z.infer<typeof ProbeGuard>;

export const BudgetGuard = z.strictObject({
  budget: z
    .strictObject({
      /** Abort when more than this percent of requests through `proxy` failed over `window`. */
      failedRequestsPercent: z.number().min(0).max(100).optional(),
      /** Abort before more than this many targets (agents/proxies) are faulted at once. */
      maxTargets: z.number().int().min(1).optional(),
      proxy: ProxyName.optional(),
      /** Default 10s. */
      window: Duration.default(10_000),
    })
    .refine((b) => b.failedRequestsPercent !== undefined || b.maxTargets !== undefined, {
      message: 'expected `failedRequestsPercent` and/or `maxTargets`',
    }),
});
export type BudgetGuard = z.infer<typeof BudgetGuard>;

export const CompareGuard = z.strictObject({
  compare: z.strictObject({
    proxy: ProxyName,
    /** latency: Mann-Whitney U on cohort samples; errorRate: two-proportion z test. Default latency. */
    metric: z.enum(['latency', 'errorRate']).default('latency'),
    /** Significance level over the whole run (alpha spending across checks). Default 0.05. */
    alpha: z.number().gt(0).lt(1).default(0.05),
    /** Samples needed in each cohort before a test is made. Default 50. */
    minSamples: z.number().int().min(2).default(50),
    /** Shifts smaller than this (ms) are not a breach even when significant. Default 0. */
    minEffectMs: z.number().min(0).default(0),
    /** How often to test. Min 100ms, default 1s. */
    every: DurationAtLeast(100).default(1000),
  }),
});
export type CompareGuard = z.infer<typeof CompareGuard>;

export const Guard = z.union([ProbeGuard, BudgetGuard, CompareGuard], {
  error: 'expected a guard with `probe`, `budget` or `compare`',
});
export type Guard = z.infer<typeof Guard>;
