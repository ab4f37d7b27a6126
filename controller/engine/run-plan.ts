import { FaultlineError } from '../../protocol/errors.ts';
import type { Experiment, FaultStep, Guard } from '../../protocol/experiment.ts';
import type { FaultExecutor, FaultRequest, UndoRecipe } from '../dispatch/fault-executor.ts';

/** One fault of the method, resolved to its target, with the time it is predicted to start. */
export interface PlannedFault {
  /** Fault id on the target: `fl:<runId>:<step>`, so a sweep can tell ours apart. */
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
  /** Highest share of matching traffic faulted at once, 0-100 (the last ramp stage when ramping). */
  maxPercent: number;
  /** Longest time any fault is on, ms. */
  longestFaultMs: number;
  /** Most faults on at the same time (predicted from the method's timeline). */
  maxConcurrentFaults: number;
}

export interface RunPlan {
  experiment: string;
  runId: string;
  targets: { name: string; kind: 'proxy'; proxy: string }[];
  faults: PlannedFault[];
  guards: GuardDescription[];
  rampUp: { stages: number[]; stageDurationMs: number } | null;
  /** Injection start to the last fault's end, ms (an abort ends it sooner). */
  predictedRunningMs: number;
  blastRadius: BlastRadius;
}

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
 * nothing: `faultline plan` prints this, and the engine runs from it.
 */
export function planRun(
  experiment: Experiment,
  runId: string,
  executor: Pick<FaultExecutor, 'undoFor'>,
): RunPlan {
  const spec = experiment.spec;
  const targets = Object.entries(spec.targets).map(([name, t]) => {
    if (t.proxy === undefined) {
      throw new FaultlineError(
        'UNSUPPORTED',
        `target ${name} selects agents; standalone runs support proxy targets only`,
        {
          target: name,
        },
      );
    }
    return { name, kind: 'proxy' as const, proxy: t.proxy };
  });
  const byName = new Map(targets.map((t) => [t.name, t]));
  const ramp = spec.rampUp
    ? { stages: spec.rampUp.stages, stageDurationMs: spec.rampUp.stageDuration }
    : null;
  const faults: PlannedFault[] = [];
  let offset = 0;
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
    const id = `fl:${runId}:${path}`;
    const seed =
      step.seed ?? (spec.settings.seed === undefined ? undefined : spec.settings.seed + faults.length);
    const request: FaultRequest = {
      id,
      targetName: target.name,
      target: { kind: 'proxy', proxy: target.proxy },
      type: step.fault,
      direction: step.direction,
      params: step.params,
      // With a ramp, every fault starts at the first stage and follows the stages.
      percent: ramp ? ramp.stages[0]! : step.percent,
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
      proxies: [...new Set(faults.map((f) => f.request.target.proxy))],
      maxPercent: ramp ? Math.max(...ramp.stages) : Math.max(0, ...faults.map((f) => f.stepSpec.percent)),
      longestFaultMs: Math.max(0, ...faults.map((f) => f.durationMs)),
      maxConcurrentFaults: maxConcurrent,
    },
  };
}

/** A new run id: sortable by time, unique enough for one controller (`r` + ms in base36 + random). */
export function newRunId(now: number = Date.now()): string {
  return `r${now.toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}
