import { z } from 'zod';
import { Duration } from './experiment-fields.ts';

/** What a probe's result must be for the steady state to hold (an experiment probe's `tolerance`). */

const RELATIVE_RE = /^(\d+(?:\.\d+)?)\s*x\s*baseline$/;

/** A bound: a number, or `"1.2x baseline"` = 1.2 × the value measured before the fault. */
const LIMIT_MESSAGE = 'expected a number or a relative bound like "1.2x baseline"';
export const Limit = z
  .union([z.number(), z.string().regex(RELATIVE_RE, LIMIT_MESSAGE)], { error: LIMIT_MESSAGE })
  .transform((v): number | { factor: number; of: 'baseline' } => {
    if (typeof v === 'number') return v;
    return { factor: Number(RELATIVE_RE.exec(v)![1]), of: 'baseline' };
  });
export type Limit = z.infer<typeof Limit>;

export const Bound = z.strictObject({ min: Limit.optional(), max: Limit.optional() });

export const LatencyTolerance = z.strictObject({
  p50: Bound.optional(),
  p90: Bound.optional(),
  p95: Bound.optional(),
  p99: Bound.optional(),
  p999: Bound.optional(),
  mean: Bound.optional(),
  max: Bound.optional(),
});

const StatusCode = z.number().int().min(100).max(599);
const ExitCode = z.number().int().min(0).max(255);

function compiles(re: string): boolean {
  try {
    new RegExp(re);
    return true;
  } catch {
    return false;
  }
}
const Regex = z.string().refine(compiles, { message: 'expected a valid regular expression' });

export const BodyTolerance = z
  .strictObject({
    /** JSONPath into the response body (parsed as JSON), e.g. `$.ok`. */
    jsonPath: z.string().startsWith('$').optional(),
    /** Value the JSONPath must select. */
    equals: z.unknown().optional(),
    regex: Regex.optional(),
  })
  .refine((b) => b.jsonPath !== undefined || b.regex !== undefined, {
    message: 'expected `jsonPath` (with `equals`) or `regex`',
  })
  .refine((b) => b.equals === undefined || b.jsonPath !== undefined, {
    message: '`equals` needs a `jsonPath`',
  });

export const Tolerance = z.strictObject({
  /** Expected HTTP status, or any of a list. */
  status: z.union([StatusCode, z.array(StatusCode).min(1)]).optional(),
  /** Latency quantiles in ms over `window`. */
  latencyMs: LatencyTolerance.optional(),
  body: BodyTolerance.optional(),
  /** Header name → value glob (`*` wildcard); names case-insensitive. */
  headers: z.record(z.string(), z.string()).optional(),
  exitCode: z.union([ExitCode, z.array(ExitCode).min(1)]).optional(),
  stdout: z.strictObject({ regex: Regex }).optional(),
  /** Bounds on a number (Prometheus result); `equals` for an exact value. */
  value: z
    .strictObject({ min: Limit.optional(), max: Limit.optional(), equals: z.number().optional() })
    .optional(),
  /** Error rate 0-1 over `window`. */
  errorRate: z.strictObject({ max: Limit }).optional(),
  /** Sliding window for quantiles and rates. Default 10s. */
  window: Duration.default(10_000),
});
export type Tolerance = z.infer<typeof Tolerance>;
