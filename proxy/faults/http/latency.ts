import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import type { DelayStep, HttpExchangeView, HttpFault } from '../../http/http-fault.ts';
import type { FaultDefinition } from '../fault-definition.ts';

/** Upper bound shared by every distribution, ms; a sample above it is cut to it. */
const maxMs = z.number().nonnegative().optional();

const Fixed = z.strictObject({
  distribution: z.literal('fixed').default('fixed'),
  /** Added delay, ms. */
  delayMs: z.number().nonnegative(),
  /** Up to ± this much at random on top of delayMs, ms. Default 0. */
  jitterMs: z.number().nonnegative().default(0),
  maxMs,
});
const Normal = z.strictObject({
  distribution: z.literal('normal'),
  meanMs: z.number().nonnegative(),
  stddevMs: z.number().nonnegative(),
  maxMs,
});
const Pareto = z.strictObject({
  distribution: z.literal('pareto'),
  /** Smallest delay (the Pareto x_m), ms. */
  scaleMs: z.number().positive(),
  /** Tail index α; smaller = heavier tail. */
  shape: z.number().positive(),
  maxMs,
});
const Uniform = z
  .strictObject({
    distribution: z.literal('uniform'),
    minMs: z.number().nonnegative(),
    maxMs: z.number().nonnegative(),
  })
  .refine((p) => p.minMs <= p.maxMs, { message: 'minMs must not exceed maxMs' });

export const LatencyParams = z.union([Fixed, Normal, Pareto, Uniform]);
export type LatencyParams = z.infer<typeof LatencyParams>;

/** One delay in ms drawn from the configured distribution; never negative, never above maxMs. */
export function sampleDelayMs(p: LatencyParams, random: () => number): number {
  let ms: number;
  switch (p.distribution) {
    case 'fixed':
      ms = p.jitterMs > 0 ? p.delayMs + (random() * 2 - 1) * p.jitterMs : p.delayMs;
      break;
    case 'normal': {
      // Box-Muller; 1 - random() keeps the logarithm finite.
      const u = 1 - random();
      ms = p.meanMs + p.stddevMs * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
      break;
    }
    case 'pareto':
      ms = p.scaleMs / (1 - random()) ** (1 / p.shape);
      break;
    case 'uniform':
      return p.minMs + random() * (p.maxMs - p.minMs);
  }
  ms = Math.max(0, ms);
  return p.maxMs !== undefined ? Math.min(ms, p.maxMs) : ms;
}

export const latencyFault: FaultDefinition<LatencyParams, HttpFault> = {
  type: 'latency',
  mode: 'http',
  summary:
    'Delays requests before forwarding (upstream) or responses before their head reaches the client (downstream).',
  params: LatencyParams,
  directions: ['upstream', 'downstream'],
  example: { distribution: 'fixed', delayMs: 200, jitterMs: 0 },
  create(params, ctx): HttpFault {
    // Timed from the request's (or response head's) arrival, so time already spent counts. A delay
    // that is already over answers synchronously: no promise, no timer.
    const delayFrom = (_ex: HttpExchangeView, fromMs: number): 'continue' | DelayStep => {
      const until = fromMs + sampleDelayMs(params, ctx.random);
      return until <= performance.now() ? 'continue' : { until };
    };
    return {
      onRequest: (ex) => delayFrom(ex, ex.startedAt),
      onResponse: (ex, head) => delayFrom(ex, head.receivedAt),
    };
  },
};
