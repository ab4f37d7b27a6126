import { z } from 'zod';
import { AgentTarget } from '../../protocol/agent-wire.ts';
import type { AgentFaultContext, Receipt, RevertOutcome, SweepContext } from '../faults/agent-fault.ts';
import { allNetns } from './all-netns.ts';
import { addRule, deleteRule, RuleSpec, sweepRules } from './iptables-rule.ts';
import { netnsForApply, resolveNetns } from './netns.ts';

/**
 * What a rule fault writes to the ledger, both as undo recipe and as receipt: the target whose
 * namespace holds the rules and each rule's exact spec. Revert deletes by spec, so it works from
 * the recipe alone even when the agent died before (or while) adding the rules.
 */
export const RuleReceipt = z.strictObject({ target: AgentTarget, rules: z.array(RuleSpec) });
export type RuleReceipt = z.infer<typeof RuleReceipt>;

/** Adds every rule in the target's namespace; on a failure removes those it added and throws. */
export async function applyRules(
  target: AgentTarget,
  rules: RuleSpec[],
  ctx: AgentFaultContext,
): Promise<RuleReceipt> {
  const ns = await netnsForApply(target, ctx.adapters);
  const added: RuleSpec[] = [];
  try {
    for (const rule of rules) {
      await addRule(ns, rule);
      added.push(rule);
    }
  } catch (err) {
    for (const rule of added) await deleteRule(ns, rule).catch(() => {});
    throw err;
  }
  return { target, rules };
}

/** Deletes the rules by spec. `vanished` when none was there (or the namespace is gone). */
export async function revertRules(receipt: Receipt, ctx: AgentFaultContext): Promise<RevertOutcome> {
  const { target, rules } = RuleReceipt.parse(receipt);
  const ns = await resolveNetns(target, ctx.adapters);
  if (!ns) return 'vanished';
  let deleted = 0;
  for (const rule of rules) if ((await deleteRule(ns, rule)) === 'deleted') deleted++;
  return deleted > 0 ? 'reverted' : 'vanished';
}

/** Removes every rule tagged with this agent's id, in every namespace on the host. */
export async function sweepAllRules(ctx: SweepContext): Promise<number> {
  let removed = 0;
  for (const ns of allNetns()) removed += await sweepRules(ns, ctx.agentId);
  return removed;
}
