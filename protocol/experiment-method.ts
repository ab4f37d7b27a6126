import { z } from 'zod';
import { AgentTarget } from './agent-wire.ts';
import { Duration, RefName } from './experiment-fields.ts';
import { ProxyFaultSpec, ProxyName } from './proxy.ts';

/** What an experiment faults (spec.targets), the steps of its method, and its ramp-up. */

export const Target = z
  .strictObject({
    /** A proxy by name (declared in spec.proxies or on spec.proxyAdmin). */
    proxy: ProxyName.optional(),
    /** Agents chosen by label and/or id. */
    agents: z
      .strictObject({
        labels: z.record(z.string(), z.string()).optional(),
        ids: z.array(z.string().min(1)).min(1).optional(),
      })
      .optional(),
    /**
     * What the fault acts on, on each chosen agent: `host` (default), `pid:N`, `container:NAME`,
     * `containers:k=v,...` (every container with those Docker labels) or `netns:NAME`. Agent
     * targets only; the fault type must list this kind among the targets it acts on.
     */
    on: AgentTarget.optional(),
    /**
     * How many of the matching agents: all, `value` of them, or `value` percent (rounded up, at
     * least one). Agent targets only. Default all.
     */
    mode: z.enum(['all', 'count', 'percent']).default('all'),
    value: z.number().positive().optional(),
    /** Seed for choosing agents, so a run picks the same ones again. */
    seed: z.number().int().nonnegative().optional(),
  })
  .superRefine((t, ctx) => {
    if ((t.proxy === undefined) === (t.agents === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'expected exactly one of `proxy` or `agents`', path: [] });
    }
    if (t.proxy !== undefined) {
      // Selection and `on` belong to agents; a proxy target is the whole proxy.
      for (const key of ['on', 'value', 'seed'] as const) {
        if (t[key] !== undefined) {
          ctx.addIssue({
            code: 'custom',
            message: `\`${key}\` applies to agent targets only`,
            path: [key],
            params: { at: 'key' },
          });
        }
      }
      return;
    }
    if (t.mode !== 'all' && t.value === undefined) {
      ctx.addIssue({ code: 'custom', message: `mode \`${t.mode}\` needs a \`value\``, path: [] });
    }
    if (t.mode === 'percent' && t.value !== undefined && t.value > 100) {
      ctx.addIssue({ code: 'custom', message: 'expected a percent of at most 100', path: ['value'] });
    }
    if (t.mode === 'count' && t.value !== undefined && !Number.isInteger(t.value)) {
      ctx.addIssue({ code: 'custom', message: 'expected a whole number of agents', path: ['value'] });
    }
  });
export type Target = z.infer<typeof Target>;

/**
 * A fault in the method. Its proxy options (direction, params, percent, match, cohort, seed,
 * maxConcurrent) are the proxy admin API's own, so the two cannot drift apart.
 */
export const FaultStep = ProxyFaultSpec.pick({
  direction: true,
  params: true,
  percent: true,
  match: true,
  cohort: true,
  seed: true,
  maxConcurrent: true,
}).extend({
  name: RefName.optional(),
  /** Fault type, e.g. `latency`; for a proxy target, a type of that proxy's mode. */
  fault: z.string().min(1),
  /** A key of spec.targets. */
  target: RefName,
  /** How long the fault stays on. */
  duration: Duration,
});
export type FaultStep = z.infer<typeof FaultStep>;

export const WaitStep = z.strictObject({ wait: Duration });
export type WaitStep = z.infer<typeof WaitStep>;

export const ParallelStep = z.strictObject({ parallel: z.array(FaultStep).min(1) });
export type ParallelStep = z.infer<typeof ParallelStep>;

export const MethodStep = z.union([FaultStep, WaitStep, ParallelStep], {
  error: 'expected a step with `fault`, `wait` or `parallel`',
});
export type MethodStep = z.infer<typeof MethodStep>;

const Percent = z.number().gt(0).max(100);

/** Blast radius grows stage by stage (percent) while the hypothesis holds. */
export const RampUp = z
  .union(
    [
      z.array(Percent).min(1),
      z.strictObject({
        stages: z.array(Percent).min(1),
        /** Time spent at each stage. Default 10s. */
        stageDuration: Duration.default(10_000),
      }),
    ],
    { error: 'expected a list of percents or `{stages, stageDuration}`' },
  )
  .transform((r) => (Array.isArray(r) ? { stages: r, stageDuration: 10_000 } : r));
export type RampUp = z.infer<typeof RampUp>;
