import type { z } from 'zod';
import { AgentTarget } from './agent-wire.ts';
import { type ExperimentIssue, explainZodIssues, type IssuePath } from './experiment-issues.ts';
import type { ProxyMode } from './proxy.ts';

/**
 * Cross-reference checks of an experiment file: names used in one place must be declared in
 * another. They read the raw (loaded, unvalidated) object so they can be reported together with
 * shape errors; anything that is not even the right type is skipped here (the schema reports it).
 */

/** Hooks that let the caller check fault parameters against the fault types it knows. */
export interface ExperimentParseOptions {
  /**
   * Schema of a proxy fault type's `params`, or undefined when that type is unknown (an error).
   * Without this hook, fault types and params are not checked.
   */
  faultParams?: (mode: ProxyMode, type: string) => z.ZodType | undefined;
  /** Known fault types of a proxy mode, listed in "unknown fault type" errors. */
  faultTypes?: (mode: ProxyMode) => readonly string[];
  /**
   * An agent fault type's params schema and the target kinds it acts on, or undefined when the
   * type is unknown (an error). Without this hook, agent fault types and params are not checked
   * here (the agents that take part check them before anything is applied).
   */
  agentFault?: (type: string) => { params: z.ZodType; targets: readonly string[] } | undefined;
  /** Known agent fault types, listed in "unknown fault type" errors. */
  agentFaultTypes?: () => readonly string[];
}

/** Fault step keys that only mean something to a proxy (traffic sampling and matching). */
const PROXY_ONLY_STEP_KEYS = ['direction', 'percent', 'match', 'cohort', 'seed', 'maxConcurrent'] as const;

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
}
function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
function names(values: Iterable<string>): string {
  const all = [...new Set(values)];
  return all.length ? all.join(', ') : 'none';
}

interface StepRef {
  step: Obj;
  path: IssuePath;
}

function faultSteps(method: unknown): StepRef[] {
  const out: StepRef[] = [];
  list(method).forEach((raw, i) => {
    const step = obj(raw);
    if (!step) return;
    if ('fault' in step) out.push({ step, path: ['spec', 'method', i] });
    list(step.parallel).forEach((inner, j) => {
      const s = obj(inner);
      if (s) out.push({ step: s, path: ['spec', 'method', i, 'parallel', j] });
    });
  });
  return out;
}

/** Every reference problem in `input` (an experiment as loaded from YAML/JSON). */
export function checkReferences(input: unknown, options: ExperimentParseOptions = {}): ExperimentIssue[] {
  const issues: ExperimentIssue[] = [];
  const spec = obj(obj(input)?.spec) ?? {};
  const hasAdmin = spec.proxyAdmin !== undefined;

  // Proxy name → mode (`tcp` when left out, as in ProxyConfig); undefined for an invalid mode.
  const proxies = new Map<string, ProxyMode | undefined>();
  list(spec.proxies).forEach((raw, i) => {
    const p = obj(raw);
    const name = str(p?.name);
    if (name === undefined) return;
    if (proxies.has(name)) {
      issues.push({
        path: ['spec', 'proxies', i, 'name'],
        message: `duplicate proxy name "${name}"`,
        at: 'value',
      });
    }
    const mode = p?.mode ?? 'tcp';
    proxies.set(name, mode === 'tcp' || mode === 'http' ? mode : undefined);
  });
  const knownProxy = (value: unknown, path: IssuePath) => {
    const name = str(value);
    if (name === undefined || proxies.has(name) || hasAdmin) return;
    issues.push({
      path,
      message: `unknown proxy "${name}"; declared in spec.proxies: ${names(proxies.keys())} (or set spec.proxyAdmin)`,
      at: 'value',
    });
  };

  const probeNames = new Set<string>();
  list(obj(spec.hypothesis)?.probes).forEach((raw, i) => {
    const p = obj(raw);
    const name = str(p?.name);
    if (name !== undefined) {
      if (probeNames.has(name)) {
        issues.push({
          path: ['spec', 'hypothesis', 'probes', i, 'name'],
          message: `duplicate probe name "${name}"`,
          at: 'value',
        });
      }
      probeNames.add(name);
    }
    knownProxy(obj(p?.proxyMetrics)?.proxy, ['spec', 'hypothesis', 'probes', i, 'proxyMetrics', 'proxy']);
  });

  // Without a targets mapping (already a shape error) every step would be "unknown": say nothing.
  const declaredTargets = obj(spec.targets);
  const targets = declaredTargets ?? {};
  for (const [name, raw] of Object.entries(targets))
    knownProxy(obj(raw)?.proxy, ['spec', 'targets', name, 'proxy']);
  const proxyOfTarget = (target: unknown) => str(obj(targets[str(target) ?? ''])?.proxy);

  const steps = faultSteps(spec.method);
  for (const { step, path } of steps) {
    const target = str(step.target);
    if (target === undefined || declaredTargets === undefined) continue;
    if (!Object.hasOwn(targets, target)) {
      issues.push({
        path: [...path, 'target'],
        message: `unknown target "${target}"; declared targets: ${names(Object.keys(targets))}`,
        at: 'value',
      });
      continue;
    }
    const agentTarget = obj(obj(targets[target])?.agents) === undefined ? undefined : obj(targets[target]);
    if (agentTarget) checkAgentStep(step, path, target, agentTarget, options, issues);
    else {
      const proxy = proxyOfTarget(target) ?? '';
      const mode = proxies.get(proxy);
      if (mode === 'tcp') checkTcpStep(step, path, proxy, issues);
      checkParams(step, path, mode, options, issues);
    }
  }

  list(spec.guards).forEach((raw, i) => {
    const g = obj(raw);
    if (!g) return;
    const probe = str(g.probe);
    if (probe !== undefined && !probeNames.has(probe)) {
      issues.push({
        path: ['spec', 'guards', i, 'probe'],
        message: `unknown probe "${probe}"; hypothesis probes: ${names(probeNames)}`,
        at: 'value',
      });
    }
    knownProxy(obj(g.budget)?.proxy, ['spec', 'guards', i, 'budget', 'proxy']);
    const compareProxy = str(obj(g.compare)?.proxy);
    if (compareProxy !== undefined) {
      knownProxy(compareProxy, ['spec', 'guards', i, 'compare', 'proxy']);
      // Without a cohort split there is no control group to compare against.
      const split = steps.some(
        ({ step }) => step.cohort !== undefined && proxyOfTarget(step.target) === compareProxy,
      );
      if (!split) {
        issues.push({
          path: ['spec', 'guards', i, 'compare', 'proxy'],
          message: `a compare guard needs a fault step with \`cohort\` on a target of proxy "${compareProxy}"`,
          at: 'value',
        });
      }
    }
  });
  return issues;
}

/** The fault type must exist for the target proxy's mode, and its params must fit its schema. */
function checkParams(
  step: Obj,
  path: IssuePath,
  mode: ProxyMode | undefined,
  options: ExperimentParseOptions,
  issues: ExperimentIssue[],
): void {
  const type = str(step.fault);
  // Unknown mode: a proxy on spec.proxyAdmin (checked when applied) or an agent target.
  if (type === undefined || mode === undefined || !options.faultParams) return;
  const schema = options.faultParams(mode, type);
  if (!schema) {
    const known = options.faultTypes?.(mode) ?? [];
    issues.push({
      path: [...path, 'fault'],
      message: `unknown fault type "${type}" for ${mode} proxies${known.length ? `; known: ${known.join(', ')}` : ''}`,
      at: 'value',
    });
    return;
  }
  const params = step.params ?? {};
  if (obj(params) === undefined) return; // not a mapping: the schema says so
  const result = schema.safeParse(params);
  if (!result.success)
    issues.push(...explainZodIssues(result.error.issues, schema, params, [...path, 'params']));
}

/** Keys a TCP proxy cannot honour: it sees connections, not requests (the proxy refuses them too). */
const HTTP_ONLY_STEP_KEYS = ['match', 'cohort'] as const;

function checkTcpStep(step: Obj, path: IssuePath, proxy: string, issues: ExperimentIssue[]): void {
  for (const key of HTTP_ONLY_STEP_KEYS) {
    if (!Object.hasOwn(step, key)) continue;
    issues.push({
      path: [...path, key],
      message: `\`${key}\` applies to HTTP-mode proxies only; proxy "${proxy}" is in tcp mode`,
      at: 'key',
    });
  }
}

/**
 * A step on an agent target: no proxy-only keys; with the hook, the fault type must be an agent
 * fault that acts on the target's `on` kind, and its params must fit its schema.
 */
function checkAgentStep(
  step: Obj,
  path: IssuePath,
  targetName: string,
  target: Obj,
  options: ExperimentParseOptions,
  issues: ExperimentIssue[],
): void {
  for (const key of PROXY_ONLY_STEP_KEYS) {
    if (!Object.hasOwn(step, key)) continue;
    const hint =
      key === 'percent' ? "; choose how many agents with the target's `mode: percent` and `value`" : '';
    issues.push({
      path: [...path, key],
      message: `\`${key}\` applies to proxy faults only; target "${targetName}" selects agents${hint}`,
      at: 'key',
    });
  }
  const type = str(step.fault);
  if (type === undefined || !options.agentFault) return;
  const fault = options.agentFault(type);
  if (!fault) {
    const known = options.agentFaultTypes?.() ?? [];
    issues.push({
      path: [...path, 'fault'],
      message: `unknown fault type "${type}" for agent targets${known.length ? `; known: ${known.join(', ')}` : ''}`,
      at: 'value',
    });
    return;
  }
  const on = str(target.on) ?? 'host';
  const kind = on.split(':', 1)[0]!;
  // A malformed `on` is the schema's to report; its kind means nothing.
  if (AgentTarget.safeParse(on).success && !fault.targets.includes(kind)) {
    issues.push({
      path: [...path, 'fault'],
      message: `fault type "${type}" does not act on ${kind} targets (target "${targetName}" has \`on: ${on}\`); it acts on: ${fault.targets.join(', ')}`,
      at: 'value',
    });
  }
  const params = step.params ?? {};
  if (obj(params) === undefined) return;
  const result = fault.params.safeParse(params);
  if (!result.success)
    issues.push(...explainZodIssues(result.error.issues, fault.params, params, [...path, 'params']));
}
