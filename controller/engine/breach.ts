import type { RunContext } from './run-context.ts';

export interface Breach {
  /** Guard name (see `guardName`). */
  guard: string;
  reason: string;
  /** Epoch ms the failing sample was seen. */
  seenAt: number;
  observed?: Record<string, unknown>;
}

/**
 * A guard saw its limit crossed: records breach-seen and abort-decided and stops the run, which
 * makes the engine revert every fault. Only the first breach of a run counts; later ones are
 * journaled as samples by their guards.
 */
export async function reportBreach(ctx: RunContext, breach: Breach): Promise<void> {
  if (ctx.stopSignal.aborted) return;
  const decidedAt = Date.now();
  // One durable write for both, queued before the stop fires, so the journal orders them ahead of
  // every revert event (appends are written in the order they are issued).
  const written = ctx.journal.appendMany([
    {
      type: 'breach-seen',
      data: { guard: breach.guard, reason: breach.reason, observed: breach.observed ?? {} },
      phase: ctx.state.phase,
      at: breach.seenAt,
    },
    {
      type: 'abort-decided',
      data: { guard: breach.guard, reason: breach.reason, decisionLatencyMs: decidedAt - breach.seenAt },
      phase: ctx.state.phase,
      at: decidedAt,
    },
  ]);
  ctx.stop({
    ending: 'aborted',
    guard: breach.guard,
    reason: breach.reason,
    breachSeenAt: breach.seenAt,
    abortDecidedAt: decidedAt,
  });
  await written;
}
