import type { AgentTarget } from '../../protocol/agent-wire.ts';
import { FaultlineError } from '../../protocol/errors.ts';
import type { Experiment } from '../../protocol/experiment.ts';
import type { Guard } from '../../protocol/experiment-guards.ts';
import type { FaultStep, Target } from '../../protocol/experiment-method.ts';
import type { FaultExecutor, FaultRequest, FaultTarget, UndoRecipe } from '../dispatch/fault-executor.ts';
import type { AgentChoice } from './agent-selection.ts';

/** One fault of the method, resolved to its target, with the time it is predicted to start. */
export interface PlannedFault {
  /**
   * Fault id on the target, so a sweep can tell ours apart: `fl:<runId>:<step>` on a proxy,
   * `<runId>.<step>.<agentId>` on an agent (one fault per chosen agent).
   */
  id: string;
  /** Position in the method: `2`, or `3.1` inside a parallel step. */
  step: string;
  stepSpec: FaultStep;
  request: FaultRequest;
  undo: UndoRecipe;
  /** Predicted start, ms after injection begins (waits before it added up). */
  startOffsetMs: number;
  durationMs: number;
}

export interface GuardDescription {
  name: string;
  kind: 'probe' | 'budget' | 'compare';
  summary: string;
}

export interface BlastRadius {
  targets: string[];
  proxies: string[];
  /** Agents faulted (ids; `*` when the plan was made without agents, as `faultline plan` does). */
  agents: string[];
  /** Highest share of matching traffic faulted at once on a proxy, 0-100 (the last ramp stage when ramping). */
  maxPercent: number;
  /** Longest time any fault is on, ms. */
  longestFaultMs: number;
  /** Most faults on at the same time (predicted from the method's timeline; one per agent). */
  maxConcurrentFaults: number;
}

export type PlannedTarget =
  | { name: string; kind: 'proxy'; proxy: string }
  | {
      name: string;
      kind: 'agents';
      /** What the faults act on, on each agent. */
      on: AgentTarget;
      /** The chosen agents' ids; null when the plan was made without agents (`faultline plan`). */
      agents: string[] | null;
      selector: NonNullable<Target['agents']>;
      mode: Target['mode'];
      value?: number;
    };

export interface RunPlan {
  experiment: string;
  runId: string;
  targets: PlannedTarget[];
  faults: PlannedFault[];
  guards: GuardDescription[];
  rampUp: { stages: number[]; stageDurationMs: number } | null;
  /** Injection start to the last fault's end, ms (an abort ends it sooner). */
  predictedRunningMs: number;
  blastRadius: BlastRadius;
}

/** Agent id shown in a plan made before any agent is known. */
export const ANY_AGENT = '*';

/** Stable, human-readable name of a guard for journals and progress lines. */
export function guardName(guard: Guard, index: number): string {
  if ('probe' in guard) return `probe:${guard.probe}`;
  if ('budget' in guard) return `budget${index}`;
  return `compare:${guard.compare.proxy}`;
}

function describeGuard(guard: Guard, index: number): GuardDescription {
  const name = guardName(guard, index);
  if ('probe' in guard) {
    const rule = guard.mOfN
      ? `${guard.mOfN.m} of the last ${guard.mOfN.n} fail`
      : `${guard.failAfter} failures in a row`;
    return {
      name,
      kind: 'probe',
      summary: `probe ${guard.probe} every ${guard.every}ms; abort when ${rule}`,
    };
  }
  if ('budget' in guard) {
    const b = guard.budget;
    const parts = [
      b.failedRequestsPercent === undefined
        ? null
        : `> ${b.failedRequestsPercent}% failed requests over ${b.window}ms`,
      b.maxTargets === undefined ? null : `> ${b.maxTargets} targets faulted`,
    ].filter(Boolean);
    return {
      name,
      kind: 'budget',
      summary: `abort on ${parts.join(' or ')}${b.proxy ? ` (proxy ${b.proxy})` : ''}`,
    };
  }
  const c = guard.compare;
  return {
    name,
    kind: 'compare',
    summary: `${c.metric} treatment vs control on ${c.proxy} every ${c.every}ms, alpha ${c.alpha}, min ${c.minSamples} samples`,
  };
}

/**
 * Resolves targets and lays out every fault of the method with its id and undo recipe. Applies
 * nothing: `faultline plan` prints this, and the engine runs from it. A step on an agent target
 * becomes one fault per agent in `agents` (chosen at run time); without `agents` it is laid out
 * once for agent {@link ANY_AGENT}.
 */
export function planRun(
  experiment: Experiment,
  runId: string,
  executor: Pick<FaultExecutor, 'undoFor'>,
  agents?: AgentChoice,
): RunPlan {
  const spec = experiment.spec;
  const targets = Object.entries(spec.targets).map(([name, t]): PlannedTarget => {
    if (t.proxy !== undefined) return { name, kind: 'proxy', proxy: t.proxy };
    const chosen = agents?.get(name);
    return {
      name,
      kind: 'agents',
      on: t.on ?? 'host',
      agents: agents ? (chosen ?? []).map((a) => a.agentId) : null,
      selector: t.agents!,
      mode: t.mode,
      ...(t.value === undefined ? {} : { value: t.value }),
    };
  });
  const byName = new Map(targets.map((t) => [t.name, t]));
  const ramp = spec.rampUp
    ? { stages: spec.rampUp.stages, stageDurationMs: spec.rampUp.stageDuration }
    : null;
  const faults: PlannedFault[] = [];
  let offset = 0;
  const add = (step: FaultStep, path: string, id: string, target: FaultTarget, percent: number) => {
    const seed =
      step.seed ?? (spec.settings.seed === undefined ? undefined : spec.settings.seed + faults.length);
    const request: FaultRequest = {
      id,
      targetName: step.target,
      target,
      type: step.fault,
      direction: step.direction,
      params: step.params,
      percent,
      ...(step.match ? { match: step.match } : {}),
      ...(step.cohort ? { cohort: step.cohort } : {}),
      ...(seed === undefined ? {} : { seed }),
      ...(step.maxConcurrent === undefined ? {} : { maxConcurrent: step.maxConcurrent }),
    };
    faults.push({
      id,
      step: path,
      stepSpec: step,
      request,
      undo: executor.undoFor(request),
      startOffsetMs: offset,
      durationMs: step.duration,
    });
  };
  const plan = (step: FaultStep, path: string) => {
    const target = byName.get(step.target);
    if (!target) {
      throw new FaultlineError(
        'INVALID_EXPERIMENT',
        `method step ${path} names target ${step.target}, which is not declared`,
        {
          step: path,
        },
      );
    }
    if (target.kind === 'proxy') {
      // With a ramp, every proxy fault starts at the first stage and follows the stages.
      const percent = ramp ? ramp.stages[0]! : step.percent;
      add(step, path, `fl:${runId}:${path}`, { kind: 'proxy', proxy: target.proxy }, percent);
      return;
    }
    // Agent faults have no traffic share: each chosen agent gets the whole fault (see docs/experiments.md).
    for (const agentId of target.agents ?? [ANY_AGENT])
      add(step, path, `${runId}.${path}.${agentId}`, { kind: 'agent', agentId, on: target.on }, 100);
  };
  for (const [i, step] of spec.method.entries()) {
    if ('wait' in step) offset += step.wait;
    else if ('parallel' in step) {
      for (const [j, s] of step.parallel.entries()) plan(s, `${i}.${j}`);
    } else plan(step, String(i));
  }
  const ends = faults.map((f) => f.startOffsetMs + f.durationMs);
  let maxConcurrent = 0;
  for (const f of faults) {
    const at = f.startOffsetMs;
    maxConcurrent = Math.max(
      maxConcurrent,
      faults.filter((g) => g.startOffsetMs <= at && g.startOffsetMs + g.durationMs > at).length,
    );
  }
  const proxyFaults = faults.filter((f) => f.request.target.kind === 'proxy');
  const faultedTargets = [...new Set(faults.map((f) => f.request.targetName))];
  return {
    experiment: experiment.metadata.name,
    runId,
    targets,
    faults,
    guards: spec.guards.map(describeGuard),
    rampUp: ramp,
    predictedRunningMs: Math.max(0, ...ends),
    blastRadius: {
      targets: faultedTargets,
      proxies: [
        ...new Set(proxyFaults.map((f) => (f.request.target.kind === 'proxy' ? f.request.target.proxy : ''))),
      ],
      agents: [
        ...new Set(
          faults.flatMap((f) => (f.request.target.kind === 'agent' ? [f.request.target.agentId] : [])),
        ),
      ],
      maxPercent: ramp
        ? proxyFaults.length
          ? Math.max(...ramp.stages)
          : 0
        : Math.max(0, ...proxyFaults.map((f) => f.stepSpec.percent)),
      longestFaultMs: Math.max(0, ...faults.map((f) => f.durationMs)),
      maxConcurrentFaults: maxConcurrent,
    },
  };
}

/** A new run id: sortable by time, unique enough for one controller (`r` + ms in base36 + random). */
export function newRunId(now: number = Date.now()): string {
  return `r${now.toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}
