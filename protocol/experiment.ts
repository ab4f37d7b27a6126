import { z } from 'zod';
import { AgentTarget } from './agent-wire.ts';
import { Duration as DurationMs } from './duration.ts';
import { type ExperimentIssue, explainZodIssues } from './experiment-issues.ts';
import { checkReferences, type ExperimentParseOptions } from './experiment-references.ts';
import { HostPort, ProxyConfig, ProxyFaultSpec, ProxyName } from './proxy.ts';

/**
 * The experiment file (`apiVersion: faultline/v1`, `kind: Experiment`). Every object is strict:
 * unknown keys are errors. Durations are written `500ms`, `10s`, `2m` or as a number of ms and
 * parse to ms. docs/experiments.md describes every field. Use `parseExperimentObject`, which also
 * checks the cross-references between fields (targets, probe names, proxies, fault params).
 */

/** Names used for probes, targets, steps and rollbacks (referenced by other fields). */
export const RefName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected a name of 1-64 of A-Z a-z 0-9 _ . -');

const HttpUrl = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' });

// The description is shown by editors (JSON Schema) and in "missing key" messages.
const DURATION_TEXT = 'a duration like 500ms, 10s or 2m, or a number of ms';

/** protocol/duration.ts's Duration (parsed to ms), described for editors and error messages. */
const Duration = DurationMs.meta({ description: DURATION_TEXT });

/** A duration of at least `minMs` milliseconds. */
function DurationAtLeast(minMs: number) {
  return DurationMs.refine((ms) => ms >= minMs, {
    message: `expected a duration of at least ${minMs}ms`,
  }).meta({ description: `${DURATION_TEXT}, at least ${minMs}ms` });
}

// ---------------------------------------------------------------- probes

export const HttpProbe = z.strictObject({
  url: HttpUrl,
  /** HTTP method. Default GET. */
  method: z
    .string()
    .regex(/^[A-Za-z]+$/, 'expected an HTTP method such as GET')
    .default('GET'),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().optional(),
  /** Per-request timeout in ms. Default 2000. */
  timeoutMs: z.number().int().positive().default(2000),
});

export const TcpProbe = z.strictObject({
  address: HostPort,
  /** Connect timeout in ms. Default 1000. */
  timeoutMs: z.number().int().positive().default(1000),
});

export const CommandProbe = z.strictObject({
  /** argv; no shell is involved. */
  run: z.array(z.string()).min(1),
  /** Kill the command after this many ms. Default 5000. */
  timeoutMs: z.number().int().positive().default(5000),
  env: z.record(z.string(), z.string()).optional(),
  cwd: z.string().optional(),
});

export const PrometheusProbe = z.strictObject({
  /** Base URL of the Prometheus server; the probe calls `/api/v1/query`. */
  url: HttpUrl,
  query: z.string().min(1),
  timeoutMs: z.number().int().positive().default(2000),
});

export const MetricsSlice = z.enum(['all', 'faulted', 'clean', 'control', 'treatment']);

export const ProxyMetricsProbe = z.strictObject({
  proxy: ProxyName,
  /** Window the proxy's stats are read over. Default 10s. */
  window: Duration.default(10_000),
  slice: MetricsSlice.default('all'),
});

// ---------------------------------------------------------------- tolerances

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

export const PROBE_KINDS = ['http', 'tcp', 'command', 'prometheus', 'proxyMetrics'] as const;
export type ProbeKind = (typeof PROBE_KINDS)[number];

export const Probe = z
  .strictObject({
    name: RefName,
    http: HttpProbe.optional(),
    tcp: TcpProbe.optional(),
    command: CommandProbe.optional(),
    prometheus: PrometheusProbe.optional(),
    proxyMetrics: ProxyMetricsProbe.optional(),
    tolerance: Tolerance.optional(),
  })
  .superRefine((p, ctx) => {
    const kinds = PROBE_KINDS.filter((k) => p[k] !== undefined);
    if (kinds.length === 0) {
      ctx.addIssue({ code: 'custom', message: `expected one of ${PROBE_KINDS.join(', ')}`, path: [] });
    } else if (kinds.length > 1) {
      // Point at the second kind: the first one is taken as what the author meant.
      ctx.addIssue({
        code: 'custom',
        message: `a probe has exactly one kind, got both \`${kinds[0]}\` and \`${kinds[1]}\``,
        path: [kinds[1]!],
        params: { at: 'key' },
      });
    }
  });
export type Probe = z.infer<typeof Probe>;

// ---------------------------------------------------------------- targets

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

// ---------------------------------------------------------------- method

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

// ---------------------------------------------------------------- guards

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

// ---------------------------------------------------------------- rollbacks, traffic, settings

const HttpAction = HttpProbe.extend({ method: HttpProbe.shape.method.default('POST') });

export const Rollback = z
  .strictObject({
    name: RefName,
    command: CommandProbe.optional(),
    http: HttpAction.optional(),
  })
  .refine((r) => (r.command === undefined) !== (r.http === undefined), {
    message: 'expected exactly one of `command` or `http`',
  });
export type Rollback = z.infer<typeof Rollback>;

export const Traffic = z.strictObject({
  /** Base URL traffic is sent to (usually a proxy's listen address). */
  url: HttpUrl,
  paths: z.array(z.string().startsWith('/')).min(1).default(['/']),
  method: z.string().default('GET'),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().optional(),
  /** Requests per second, all connections together. */
  rate: z.number().positive(),
  /** Concurrent connections. Default 8. */
  connections: z.number().int().positive().default(8),
});
export type Traffic = z.infer<typeof Traffic>;

export const Settings = z.strictObject({
  /** Lease in ms of every fault; renewed while the run lives. Default 5000. */
  leaseMs: z.number().int().min(100).default(5000),
  /** How often steady-state probes run. Default 1s. */
  probeInterval: DurationAtLeast(100).default(1000),
  /** Seed for every random choice of the run. Random when absent. */
  seed: z.number().int().nonnegative().optional(),
  /** Probe runs before the fault that make the baseline. Default 5. */
  steadyStateSamples: z.number().int().min(1).default(5),
});
export type Settings = z.infer<typeof Settings>;

// ---------------------------------------------------------------- the file

export const Metadata = z.strictObject({
  name: RefName,
  labels: z.record(z.string(), z.string()).default({}),
  description: z.string().optional(),
});

export const ExperimentSpec = z.strictObject({
  /** Proxies a standalone run starts in-process. */
  proxies: z.array(ProxyConfig).default([]),
  /** Admin URL of a running `faultline proxy`; when set, proxies are looked up there. */
  proxyAdmin: HttpUrl.optional(),
  hypothesis: z.strictObject({ probes: z.array(Probe).default([]) }).prefault({}),
  targets: z.record(RefName, Target),
  method: z.array(MethodStep).min(1),
  rampUp: RampUp.optional(),
  guards: z.array(Guard).default([]),
  rollbacks: z.array(Rollback).default([]),
  traffic: Traffic.optional(),
  settings: Settings.prefault({}),
});

export const Experiment = z.strictObject({
  /** JSON files may name their schema; ignored. */
  $schema: z.string().optional(),
  apiVersion: z.literal('faultline/v1'),
  kind: z.literal('Experiment'),
  metadata: Metadata,
  spec: ExperimentSpec,
});
export type Experiment = z.infer<typeof Experiment>;
export type ExperimentInput = z.input<typeof Experiment>;

// ---------------------------------------------------------------- parsing with cross-references

export type { ExperimentIssue, IssuePath } from './experiment-issues.ts';
export type { ExperimentParseOptions } from './experiment-references.ts';

export type ExperimentParseResult =
  | { ok: true; experiment: Experiment }
  | { ok: false; issues: ExperimentIssue[] };

/**
 * Parses an already-loaded object (YAML/JSON) into an Experiment. Shape errors and reference
 * errors (targets, probe names, proxies, fault types and params) are reported together.
 */
export function parseExperimentObject(
  input: unknown,
  options: ExperimentParseOptions = {},
): ExperimentParseResult {
  const parsed = Experiment.safeParse(input);
  const issues = parsed.success ? [] : explainZodIssues(parsed.error.issues, Experiment, input);
  // A value the schema already rejected is not also reported as a bad reference.
  const rejected = new Set(issues.map((i) => JSON.stringify(i.path)));
  for (const issue of checkReferences(input, options)) {
    if (!rejected.has(JSON.stringify(issue.path))) issues.push(issue);
  }
  if (parsed.success && issues.length === 0) return { ok: true, experiment: parsed.data };
  return { ok: false, issues };
}

/** JSON Schema (draft 2020-12) of what may be written in an experiment file; for editors. */
export function experimentJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(Experiment, { io: 'input' }),
    title: 'Faultline experiment (faultline/v1)',
  };
}
