import type { Experiment } from '../../protocol/experiment.ts';
import type { RunPhase } from '../../protocol/journal.ts';
import type { HypothesisResult, RollbackResult, Verdict } from '../../protocol/verdict.ts';
import { AdminClient } from '../dispatch/admin-client.ts';
import { AgentExecutor } from '../dispatch/agent-executor.ts';
import type { AgentHub } from '../dispatch/agent-hub.ts';
import { ExecutorRouter } from '../dispatch/executor-router.ts';
import type { ExecutorEvents, FaultExecutor } from '../dispatch/fault-executor.ts';
import { ProxyExecutor } from '../dispatch/proxy-executor.ts';
import type { RunStore } from '../store/run-store.ts';
import { abortableSleep } from './abortable-sleep.ts';
import { agentCapabilityFailure, chooseRunAgents } from './choose-run-agents.ts';
import { applyFault, revertEverything } from './fault-lifecycle.ts';
import { startGuards } from './guards/start-guards.ts';
import { type Baselines, checkHypothesis } from './hypothesis.ts';
import { JournalWriter } from './journal-writer.ts';
import { runRamp } from './ramp.ts';
import { runRollbacks } from './rollbacks.ts';
import type { FaultState, ProgressEvent, RunContext, RunState, StopCause } from './run-context.ts';
import { newRunId, planRun } from './run-plan.ts';
import { type RunningTraffic, startTraffic } from './traffic.ts';
import { buildVerdict } from './verdict-builder.ts';

/** Options of {@link runExperiment}. */
export interface RunExperimentOptions {
  experiment: Experiment;
  store: RunStore;
  /** Admin URL of the proxy that holds the experiment's proxies (in-process or `spec.proxyAdmin`). */
  proxyAdminUrl?: string | undefined;
  /**
   * Builds the executor, given the lease callbacks the engine journals. Default: an
   * {@link ExecutorRouter} over a {@link ProxyExecutor} on `proxyAdminUrl` and, with `agentHub`,
   * an {@link AgentExecutor}, both with the experiment's lease.
   */
  createExecutor?: (events: ExecutorEvents) => FaultExecutor;
  /**
   * The hub agents connect to. Needed when the experiment has agent targets; the engine neither
   * starts nor closes it.
   */
  agentHub?: AgentHub;
  /**
   * How long the planned phase waits for the agents the targets select, ms. When they are not
   * there by then the run ends `failed` with nothing applied. Default 10000.
   */
  waitForAgentsMs?: number;
  /**
   * Stops the run from outside: reverts, then ends `interrupted` (or `halted` when the abort
   * reason is the string `'halted'`).
   */
  signal?: AbortSignal;
  runId?: string;
  onProgress?: (event: ProgressEvent) => void;
  /** Send `spec.traffic` while the run lives. Default true. */
  traffic?: boolean;
}

/**
 * Runs one experiment to its verdict through the phases
 * planned → steady-state-before → injecting → running → reverting → steady-state-after.
 * Every path passes through reverting; see docs/run-lifecycle.md.
 */
export async function runExperiment(opts: RunExperimentOptions): Promise<Verdict> {
  const { experiment, store } = opts;
  const runId = opts.runId ?? newRunId();
  const startedAt = Date.now();
  const proxyAdminUrl = opts.proxyAdminUrl ?? experiment.spec.proxyAdmin ?? null;
  const journal = new JournalWriter(runId, store);
  const stopController = new AbortController();
  const state: RunState = {
    phase: 'planned',
    startedAt,
    injectStartedAt: null,
    faults: new Map(),
    stopCause: null,
    guards: new Map(),
    rampPercent: null,
    allRevertedAt: null,
  };
  const progress = opts.onProgress ?? (() => {});
  let ctxRef: RunContext | null = null;
  const events: ExecutorEvents = {
    renewed: (h, expiresAt) => {
      void journal
        .append('fault-renewed', { faultId: h.id, expiresAt }, { phase: state.phase })
        .catch(() => {});
    },
    lost: (h, reason) => {
      const f = state.faults.get(h.id);
      if (f) {
        f.status = 'reverted';
        f.revertedAt = Date.now();
      }
      void journal.append('fault-lost', { faultId: h.id, reason }, { phase: state.phase }).catch(() => {});
      ctxRef?.stop({ ending: 'failed', reason: `fault ${h.id} was lost on its target: ${reason}` });
    },
  };
  const leaseMs = experiment.spec.settings.leaseMs;
  const executor = opts.createExecutor
    ? opts.createExecutor(events)
    : new ExecutorRouter({
        proxy: new ProxyExecutor({ adminUrl: proxyAdminUrl ?? 'http://127.0.0.1:8474', leaseMs, events }),
        ...(opts.agentHub ? { agent: new AgentExecutor({ hub: opts.agentHub, leaseMs, events }) } : {}),
      });
  await store.createRun({ runId, experiment: experiment.metadata.name, startedAt, spec: experiment });
  // Agents are chosen before the plan is made (one fault per chosen agent) and before the
  // hypothesis is checked, so a run whose agents are missing applies nothing.
  const agents = await chooseRunAgents(opts);
  const plan = planRun(experiment, runId, executor, agents.chosen);
  agents.failure ??= agentCapabilityFailure(plan, agents.chosen);
  const admin = proxyAdminUrl ? new AdminClient({ baseUrl: proxyAdminUrl }) : null;
  const ctx: RunContext = {
    runId,
    experiment,
    plan,
    journal,
    executor,
    admin,
    proxyAdminUrl,
    state,
    stopSignal: stopController.signal,
    stop(cause: StopCause) {
      if (state.stopCause) return false;
      state.stopCause = cause;
      stopController.abort();
      return true;
    },
    progress,
  };
  ctxRef = ctx;
  for (const f of plan.faults) {
    const fs: FaultState = {
      planned: f,
      status: 'pending',
      handle: null,
      applying: null,
      updating: null,
      reverting: null,
      appliedAt: null,
      revertedAt: null,
      percent: f.request.percent,
    };
    state.faults.set(f.id, fs);
  }
  const onOutsideStop = () => {
    const halted = opts.signal?.reason === 'halted';
    ctx.stop({
      ending: halted ? 'halted' : 'interrupted',
      reason: halted ? 'halted from outside' : 'interrupted by a signal',
    });
  };
  opts.signal?.addEventListener('abort', onOutsideStop, { once: true });
  if (opts.signal?.aborted) onOutsideStop();
  if (agents.failure) ctx.stop({ ending: 'failed', reason: agents.failure });

  const enter = async (phase: RunPhase, data: Record<string, unknown> = {}) => {
    state.phase = phase;
    progress({ type: 'phase', phase, at: Date.now() });
    await journal.append('phase-entered', data, { phase });
  };

  let traffic: RunningTraffic | null = null;
  let before: HypothesisResult | null = null;
  let after: HypothesisResult | null = null;
  let rollbacks: RollbackResult[] = [];
  let baselines: Baselines = new Map();
  let revertFailures: { faultId: string; message: string }[] = [];
  let anyApplied = false;
  let background: Promise<unknown> = Promise.resolve();

  try {
    await journal.append(
      'run-planned',
      { plan: summarizePlan(plan), agentSeed: agents.seed },
      { phase: 'planned' },
    );
    await enter('planned');
    if (opts.traffic !== false && experiment.spec.traffic && !ctx.stopSignal.aborted)
      traffic = await startTraffic(experiment.spec.traffic);

    if (!ctx.stopSignal.aborted) {
      await enter('steady-state-before');
      const checked = await checkHypothesis(ctx, { phase: 'steady-state-before', baselines: null });
      before = checked.result;
      baselines = checked.baselines;
      if (!before.ok && !ctx.stopSignal.aborted) {
        ctx.stop({
          ending: 'failed',
          reason: `the hypothesis did not hold before any fault: ${firstReason(before)}`,
        });
      }
    }

    if (!ctx.stopSignal.aborted) {
      await enter('injecting', { faults: plan.faults.length });
      state.injectStartedAt = Date.now();
      state.rampPercent = plan.rampUp ? plan.rampUp.stages[0]! : null;
      const guardsStop = new AbortController();
      const stopGuards = () => guardsStop.abort();
      ctx.stopSignal.addEventListener('abort', stopGuards, { once: true });
      const guards = startGuards(ctx, baselines, guardsStop.signal);
      const ramp = plan.rampUp ? runRamp(ctx, baselines, guardsStop.signal) : Promise.resolve();
      await runMethod(ctx);
      anyApplied = [...state.faults.values()].some((f) => f.appliedAt !== null);
      if (!ctx.stopSignal.aborted) {
        await enter('running');
        await waitForFaultsToEnd(ctx);
      }
      anyApplied = [...state.faults.values()].some((f) => f.appliedAt !== null);
      // Guards stop here, but are awaited only after the revert: a probe in flight must not delay it.
      guardsStop.abort();
      ctx.stopSignal.removeEventListener('abort', stopGuards);
      background = Promise.allSettled([guards, ramp]);
    }
  } catch (err) {
    ctx.stop({ ending: 'failed', reason: `the run failed: ${(err as Error).message}` });
  }

  // Every ending passes through reverting, even when nothing was applied.
  try {
    // Not awaited on its own: the revert's first journal write is queued behind it anyway.
    const entered = enter('reverting');
    entered.catch(() => {});
    const r = await revertEverything(ctx);
    await entered;
    revertFailures = r.failed;
    await background;
    if (revertFailures.length > 0 && state.stopCause?.ending !== 'interrupted') {
      state.stopCause = {
        ending: 'failed',
        reason: `could not confirm revert of ${revertFailures.map((f) => f.faultId).join(', ')}; leases (${experiment.spec.settings.leaseMs} ms) remove them`,
      };
    }
    anyApplied ||= [...state.faults.values()].some((f) => f.appliedAt !== null);
    if (anyApplied) rollbacks = await runRollbacks(ctx);
    // On every ending, interrupted included: the verdict should say whether the system recovered.
    // (A second SIGINT/SIGTERM in the CLI skips it; the faults are already gone.)
    if (anyApplied) {
      await enter('steady-state-after');
      after = (await checkHypothesis(ctx, { phase: 'steady-state-after', baselines })).result;
    }
  } catch (err) {
    state.stopCause ??= {
      ending: 'failed',
      reason: `the run failed while reverting: ${(err as Error).message}`,
    };
  } finally {
    opts.signal?.removeEventListener('abort', onOutsideStop);
    await traffic?.stop().catch(() => {});
    await executor.close();
    await admin?.close();
  }

  const verdict = buildVerdict(ctx, { before, after, rollbacks, endedAt: Date.now() });
  await journal.append('verdict', { ...verdict }, { phase: state.phase }).catch(() => {});
  await store.finishRun(runId, { endedAt: verdict.endedAt, ending: verdict.ending, verdict });
  return verdict;
}

function firstReason(h: HypothesisResult): string {
  const bad = h.probes.find((p) => !p.ok);
  return bad ? `${bad.probe}: ${bad.reasons.join('; ')}` : 'unknown';
}

/**
 * Runs the method's steps in order: faults are applied and left on; `wait` pauses the method. A
 * step on an agent target has one fault per chosen agent; they are applied together.
 */
async function runMethod(ctx: RunContext): Promise<void> {
  const faultsByStep = new Map<string, FaultState[]>();
  for (const f of ctx.plan.faults) {
    const list = faultsByStep.get(f.step) ?? [];
    list.push(ctx.state.faults.get(f.id)!);
    faultsByStep.set(f.step, list);
  }
  const applyStep = (path: string) =>
    Promise.all((faultsByStep.get(path) ?? []).map((f) => applyFault(ctx, f)));
  for (const [i, step] of ctx.experiment.spec.method.entries()) {
    if (ctx.stopSignal.aborted) return;
    if ('wait' in step) await abortableSleep(step.wait, ctx.stopSignal);
    else if ('parallel' in step) await Promise.all(step.parallel.map((_, j) => applyStep(`${i}.${j}`)));
    else await applyStep(String(i));
  }
}

/** The running phase lasts until every fault's duration has ended (each reverts on its own) or a stop. */
async function waitForFaultsToEnd(ctx: RunContext): Promise<void> {
  const ends = [...ctx.state.faults.values()]
    .filter((f) => f.appliedAt !== null)
    .map((f) => f.appliedAt! + f.planned.durationMs);
  const until = Math.max(Date.now(), ...ends);
  await abortableSleep(until - Date.now(), ctx.stopSignal);
  if (ctx.stopSignal.aborted) return;
  // Let the per-fault reverts that fire at the same moment finish.
  await Promise.allSettled([...ctx.state.faults.values()].map((f) => f.reverting));
}

function summarizePlan(plan: RunContext['plan']): Record<string, unknown> {
  return {
    targets: plan.targets,
    faults: plan.faults.map((f) => ({
      id: f.id,
      step: f.step,
      target: f.request.targetName,
      type: f.request.type,
      percent: f.request.percent,
      durationMs: f.durationMs,
      startOffsetMs: f.startOffsetMs,
      undo: f.undo,
    })),
    guards: plan.guards,
    rampUp: plan.rampUp,
    predictedRunningMs: plan.predictedRunningMs,
    blastRadius: plan.blastRadius,
  };
}
