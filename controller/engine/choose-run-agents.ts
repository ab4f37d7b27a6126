import type { Experiment } from '../../protocol/experiment.ts';
import type { AgentHub } from '../dispatch/agent-hub.ts';
import { type AgentChoice, agentTargets, capabilityProblems, waitForAgents } from './agent-selection.ts';
import type { RunPlan } from './run-plan.ts';

/**
 * The planned phase's agent step: wait for the agents the experiment's targets select, choose
 * them, and check they can run every agent fault of the plan. A failure is a reason to end the
 * run `failed` before anything is applied.
 */

/** The agents each agent target selects (waiting for them), or why the run cannot have them. */
export async function chooseRunAgents(opts: {
  experiment: Experiment;
  agentHub?: AgentHub | undefined;
  waitForAgentsMs?: number | undefined;
  signal?: AbortSignal | undefined;
}): Promise<{ chosen: AgentChoice | undefined; failure: string | null; seed: number | null }> {
  const targets = agentTargets(opts.experiment.spec.targets);
  if (Object.keys(targets).length === 0) return { chosen: undefined, failure: null, seed: null };
  const seed = opts.experiment.spec.settings.seed ?? Math.floor(Math.random() * 2 ** 31);
  if (!opts.agentHub) {
    return {
      chosen: new Map(),
      failure: `targets ${Object.keys(targets).join(', ')} select agents, and this run has no agent hub; nothing was applied`,
      seed,
    };
  }
  const waited = await waitForAgents(opts.agentHub, targets, {
    timeoutMs: opts.waitForAgentsMs ?? 10_000,
    seed,
    signal: opts.signal ?? new AbortController().signal,
  });
  if (!waited.ok) return { chosen: new Map(), failure: waited.reason, seed };
  return { chosen: waited.chosen, failure: null, seed };
}

/** A chosen agent that lacks a fault type or target kind fails the run before anything is applied. */
export function agentCapabilityFailure(plan: RunPlan, chosen: AgentChoice | undefined): string | null {
  if (!chosen) return null;
  const byId = new Map([...chosen.values()].flat().map((a) => [a.agentId, a]));
  const faults = plan.faults.flatMap((f) => {
    const t = f.request.target;
    const agent = t.kind === 'agent' ? byId.get(t.agentId) : undefined;
    return agent && t.kind === 'agent'
      ? [{ id: f.id, type: f.request.type, agent, on: t.on, params: f.request.params }]
      : [];
  });
  const problems = capabilityProblems(faults);
  return problems.length
    ? `the chosen agents cannot run this experiment: ${problems.join('; ')}; nothing was applied`
    : null;
}
