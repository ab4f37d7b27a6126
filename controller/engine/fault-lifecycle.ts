import { isFaultlineError } from '../../protocol/errors.ts';
import { abortableSleep } from './abortable-sleep.ts';
import { reportBreach } from './breach.ts';
import type { FaultState, RunContext } from './run-context.ts';

/** What the budget's `maxTargets` counts: a proxy target once, and each agent once. */
function targetKey(fault: FaultState): string {
  const t = fault.planned.request.target;
  return t.kind === 'agent' ? `agent:${t.agentId}` : fault.planned.request.targetName;
}

function faultedTargets(ctx: RunContext): Set<string> {
  const names = new Set<string>();
  for (const f of ctx.state.faults.values()) {
    if (f.status === 'applying' || f.status === 'active') names.add(targetKey(f));
  }
  return names;
}

/** The budget's `maxTargets`: refuses (as a breach) an apply that would fault one target too many. */
function overTargetBudget(ctx: RunContext, fault: FaultState): number | null {
  const targets = faultedTargets(ctx);
  targets.add(targetKey(fault));
  for (const g of ctx.experiment.spec.guards) {
    if ('budget' in g && g.budget.maxTargets !== undefined && targets.size > g.budget.maxTargets)
      return g.budget.maxTargets;
  }
  return null;
}

/**
 * Applies one fault: journals `fault-applying` with its undo recipe (durable first), applies it
 * with a lease, journals `fault-applied`, and reverts it on its own when its duration ends.
 */
export async function applyFault(ctx: RunContext, fault: FaultState): Promise<void> {
  if (ctx.stopSignal.aborted || fault.status !== 'pending') return;
  const limit = overTargetBudget(ctx, fault);
  if (limit !== null) {
    await reportBreach(ctx, {
      guard: 'budget:maxTargets',
      reason: `applying ${fault.planned.id} would fault more than ${limit} targets`,
      seenAt: Date.now(),
      observed: { targets: faultedTargets(ctx).size + 1, maxTargets: limit },
    });
    return;
  }
  const planned = fault.planned.request;
  const target = planned.target;
  // Ramp stages set the traffic share of proxy faults; agent faults are whole (see run-plan.ts).
  const request = {
    ...planned,
    percent: target.kind === 'proxy' ? (ctx.state.rampPercent ?? planned.percent) : planned.percent,
  };
  fault.status = 'applying';
  fault.percent = request.percent;
  let release!: (h: FaultState['handle']) => void;
  fault.applying = new Promise((r) => {
    release = r;
  });
  try {
    await ctx.journal.append(
      'fault-applying',
      {
        faultId: fault.planned.id,
        step: fault.planned.step,
        target: request.targetName,
        ...(target.kind === 'proxy'
          ? { proxy: target.proxy, direction: request.direction }
          : { agentId: target.agentId, on: target.on }),
        type: request.type,
        params: request.params,
        percent: request.percent,
        durationMs: fault.planned.durationMs,
        undo: fault.planned.undo,
      },
      { phase: ctx.state.phase },
    );
    if (ctx.stopSignal.aborted) {
      // Journaled but never applied: the undo recipe is harmless to replay.
      fault.status = 'pending';
      release(null);
      return;
    }
    const handle = await ctx.executor.apply(request);
    fault.handle = handle;
    fault.status = 'active';
    fault.appliedAt = handle.appliedAt;
    release(handle);
    ctx.progress({ type: 'fault', faultId: fault.planned.id, status: 'active', at: Date.now() });
    await ctx.journal.append(
      'fault-applied',
      { faultId: handle.id, leaseMs: handle.leaseMs, percent: request.percent },
      { phase: ctx.state.phase },
    );
  } catch (err) {
    fault.status = 'failed';
    release(null);
    const message = (err as Error).message;
    await ctx.journal
      .append('fault-apply-failed', {
        faultId: fault.planned.id,
        code: isFaultlineError(err) ? err.code : 'INTERNAL',
        message,
      })
      .catch(() => {});
    ctx.stop({
      ending: 'failed',
      reason: `fault ${fault.planned.id} (${request.type} on ${request.targetName}) failed to apply: ${message}`,
    });
    return;
  }
  void endAfterDuration(ctx, fault);
}

async function endAfterDuration(ctx: RunContext, fault: FaultState): Promise<void> {
  await abortableSleep(fault.planned.durationMs, ctx.stopSignal);
  // On a stop, the reverting phase reverts everything at once.
  if (!ctx.stopSignal.aborted) await revertFault(ctx, fault).catch(() => {});
}

/** Re-applies an active fault with a new percent (ramp stages). */
export async function updateFaultPercent(ctx: RunContext, fault: FaultState, percent: number): Promise<void> {
  if (fault.status !== 'active' || !fault.handle || ctx.stopSignal.aborted) return;
  if (fault.planned.request.target.kind !== 'proxy') return;
  const handle = fault.handle;
  fault.updating = ctx.executor.update(handle, { percent }).then(
    (h) => {
      fault.handle = h;
      fault.percent = percent;
    },
    () => {},
  );
  await fault.updating;
  fault.updating = null;
  await ctx.journal.append(
    'fault-updated',
    { faultId: fault.planned.id, percent },
    { phase: ctx.state.phase },
  );
}

/**
 * Reverts one fault and confirms it is gone; journals `fault-reverting` before and `fault-reverted`
 * after. Safe to call again: later calls share the first one's work.
 */
export function revertFault(ctx: RunContext, fault: FaultState): Promise<void> {
  fault.reverting ??= (async () => {
    if (fault.applying) await fault.applying;
    // A ramp re-apply in flight could land after the DELETE and bring the fault back.
    if (fault.updating) await fault.updating;
    const handle = fault.handle;
    if (!handle || fault.status === 'reverted') return;
    fault.status = 'reverting';
    await ctx.journal.append(
      'fault-reverting',
      { faultId: handle.id, undo: handle.undo },
      { phase: ctx.state.phase },
    );
    try {
      const { wasActive } = await ctx.executor.revert(handle);
      fault.status = 'reverted';
      fault.revertedAt = Date.now();
      ctx.progress({ type: 'fault', faultId: handle.id, status: 'reverted', at: fault.revertedAt });
      await ctx.journal.append(
        'fault-reverted',
        { faultId: handle.id, wasActive, confirmed: true },
        { phase: ctx.state.phase, at: fault.revertedAt },
      );
    } catch (err) {
      fault.status = 'active';
      throw err;
    }
  })();
  return fault.reverting;
}

/**
 * Reverts every fault of the run in parallel (waiting for applies and ramp re-applies in flight)
 * and records `all-faults-reverted` once each one is confirmed gone. The abort path is what the
 * abort latency measures, so its journal writes are batched: one durable write for every
 * `fault-reverting` before the DELETEs, one for every `fault-reverted` plus `all-faults-reverted`
 * after. Returns the faults that could not be confirmed (their leases remove them).
 */
export async function revertEverything(
  ctx: RunContext,
): Promise<{ failed: { faultId: string; message: string }[] }> {
  const faults = [...ctx.state.faults.values()];
  await Promise.all(faults.map((f) => f.applying));
  await Promise.all(faults.map((f) => f.updating));
  const already = faults.filter((f) => f.reverting !== null);
  const mine = faults.filter((f) => f.reverting === null && f.handle !== null && f.status === 'active');
  const done = new Map<FaultState, { resolve: () => void; reject: (e: unknown) => void }>();
  for (const f of mine) {
    f.status = 'reverting';
    f.reverting = new Promise<void>((resolve, reject) => done.set(f, { resolve, reject }));
    // Nobody else may await it; keep a rejection from going unhandled.
    f.reverting.catch(() => {});
  }
  await ctx.journal.appendMany(
    mine.map((f) => ({
      type: 'fault-reverting' as const,
      data: { faultId: f.planned.id, undo: f.handle!.undo },
      phase: 'reverting' as const,
    })),
  );
  const results = await Promise.allSettled(
    mine.map(async (f) => {
      const r = await ctx.executor.revert(f.handle!);
      f.status = 'reverted';
      f.revertedAt = Date.now();
      return r;
    }),
  );
  const failed: { faultId: string; message: string }[] = [];
  const events: Parameters<RunContext['journal']['appendMany']>[0] = [];
  results.forEach((r, i) => {
    const f = mine[i]!;
    if (r.status === 'fulfilled') {
      events.push({
        type: 'fault-reverted',
        data: { faultId: f.planned.id, wasActive: r.value.wasActive, confirmed: true },
        phase: 'reverting',
        at: f.revertedAt!,
      });
      done.get(f)!.resolve();
    } else {
      f.status = 'active';
      failed.push({ faultId: f.planned.id, message: (r.reason as Error).message });
      done.get(f)!.reject(r.reason);
    }
  });
  const earlier = await Promise.allSettled(already.map((f) => f.reverting));
  earlier.forEach((r, i) => {
    if (r.status === 'rejected')
      failed.push({ faultId: already[i]!.planned.id, message: (r.reason as Error).message });
  });
  // Belt and braces: anything the executor still holds (should be nothing) goes too.
  const stray = await ctx.executor.revertAll();
  for (const s of stray.failed) failed.push({ faultId: s.handle.id, message: s.error.message });
  if (failed.length === 0) {
    const at = Date.now();
    ctx.state.allRevertedAt = at;
    events.push({
      type: 'all-faults-reverted',
      data: { faults: faults.filter((f) => f.status === 'reverted').map((f) => f.planned.id) },
      phase: 'reverting',
      at,
    });
  }
  for (const f of mine)
    if (f.status === 'reverted')
      ctx.progress({ type: 'fault', faultId: f.planned.id, status: 'reverted', at: f.revertedAt! });
  await ctx.journal.appendMany(events);
  return { failed };
}
