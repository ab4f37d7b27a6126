import { z } from 'zod';
import { DurationAtLeast, HttpUrl, RefName } from './experiment-fields.ts';
import { Guard } from './experiment-guards.ts';
import { type ExperimentIssue, explainZodIssues } from './experiment-issues.ts';
import { MethodStep, RampUp, Target } from './experiment-method.ts';
import { CommandProbe, HttpProbe, Probe } from './experiment-probes.ts';
import { checkReferences, type ExperimentParseOptions } from './experiment-references.ts';
import { MAX_LEASE_MS } from './lease.ts';
import { ProxyConfig } from './proxy.ts';

/**
 * The experiment file (`apiVersion: faultline/v1`, `kind: Experiment`). Every object is strict:
 * unknown keys are errors. Durations are written `500ms`, `10s`, `2m` or as a number of ms and
 * parse to ms. docs/experiments.md describes every field. Use `parseExperimentObject`, which also
 * checks the cross-references between fields (targets, probe names, proxies, fault params).
 * Its parts live beside it: experiment-probes.ts, experiment-tolerance.ts, experiment-method.ts
 * (targets, steps, ramp-up) and experiment-guards.ts.
 */

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
  /** Lease in ms of every fault; renewed while the run lives. Default 5000, at most 1 hour. */
  leaseMs: z.number().int().min(100).max(MAX_LEASE_MS).default(5000),
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
