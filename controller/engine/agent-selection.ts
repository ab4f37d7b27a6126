import { z } from 'zod';
import { type AgentTarget, actsOn, targetKind } from '../../protocol/agent-wire.ts';
import type { Target } from '../../protocol/experiment-method.ts';
import { seededRandom } from '../../protocol/seeded-random.ts';
import type { AgentInfo } from '../dispatch/agent-hub.ts';
import { abortableSleep } from './abortable-sleep.ts';

/**
 * Which connected agents an agent target selects: those carrying every label in `agents.labels`
 * and (when given) listed in `agents.ids`; then all of them, `value` of them (`count`), or `value`
 * percent (`percent`, rounded up, at least one), chosen by a seeded shuffle over the sorted ids so
 * the same seed over the same agents picks the same ones again.
 */

/** The agent targets of an experiment, by name. */
export type AgentTargets = Record<string, Target & { agents: NonNullable<Target['agents']> }>;

/** Agents chosen per target name. */
export type AgentChoice = Map<string, AgentInfo[]>;

/** Where the hub's agents come from: `AgentHub` fits. */
export interface AgentDirectory {
  agents(): AgentInfo[];
}

export function agentTargets(targets: Record<string, Target>): AgentTargets {
  return Object.fromEntries(
    Object.entries(targets).filter(([, t]) => t.agents !== undefined),
  ) as AgentTargets;
}

export function matchingAgents(target: AgentTargets[string], agents: readonly AgentInfo[]): AgentInfo[] {
  const { labels = {}, ids } = target.agents;
  return agents
    .filter((a) => Object.entries(labels).every(([k, v]) => a.labels[k] === v))
    .filter((a) => ids === undefined || ids.includes(a.agentId))
    .sort((a, b) => a.agentId.localeCompare(b.agentId));
}

/**
 * Enough of the target's agents are connected to start: every listed id; at least `value` for
 * `count`; at least one otherwise (to wait for several by label, use `count` or `ids`).
 */
export function selectionReady(target: AgentTargets[string], matching: readonly AgentInfo[]): boolean {
  if (target.agents.ids) return target.agents.ids.every((id) => matching.some((a) => a.agentId === id));
  if (target.mode === 'count') return matching.length >= (target.value ?? 1);
  return matching.length > 0;
}

/** The chosen agents of one target, in id order. */
export function chooseAgents(
  target: AgentTargets[string],
  matching: readonly AgentInfo[],
  seed: number,
): AgentInfo[] {
  const n =
    target.mode === 'all'
      ? matching.length
      : target.mode === 'count'
        ? Math.min(matching.length, target.value ?? matching.length)
        : Math.min(matching.length, Math.max(1, Math.ceil((matching.length * (target.value ?? 100)) / 100)));
  if (n >= matching.length) return [...matching];
  const pool = [...matching];
  const rand = seededRandom(target.seed ?? seed);
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, n).sort((a, b) => a.agentId.localeCompare(b.agentId));
}

function describeSelector(target: AgentTargets[string]): string {
  const parts: string[] = [];
  const labels = Object.entries(target.agents.labels ?? {});
  if (labels.length) parts.push(`labels ${labels.map(([k, v]) => `${k}=${v}`).join(',')}`);
  if (target.agents.ids) parts.push(`ids ${target.agents.ids.join(',')}`);
  const how =
    target.mode === 'count'
      ? `, ${target.value} of them`
      : target.mode === 'percent'
        ? `, ${target.value}%`
        : '';
  return `${parts.length ? parts.join(' and ') : 'any agent'}${how}`;
}

export type WaitResult = { ok: true; chosen: AgentChoice } | { ok: false; reason: string };

/**
 * Waits up to `timeoutMs` until every agent target can be served (see {@link selectionReady}),
 * then chooses the agents. Checks every 50 ms; nothing is sent to any agent.
 */
export async function waitForAgents(
  hub: AgentDirectory,
  targets: AgentTargets,
  opts: { timeoutMs: number; seed: number; signal: AbortSignal },
): Promise<WaitResult> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const connected = hub.agents();
    const missing = Object.entries(targets).filter(
      ([, t]) => !selectionReady(t, matchingAgents(t, connected)),
    );
    if (missing.length === 0) {
      const chosen: AgentChoice = new Map();
      for (const [name, t] of Object.entries(targets))
        chosen.set(name, chooseAgents(t, matchingAgents(t, connected), opts.seed));
      return { ok: true, chosen };
    }
    if (Date.now() >= deadline || opts.signal.aborted) {
      const list = connected.map((a) => a.agentId).join(', ') || 'none';
      const what = missing.map(([name, t]) => `target ${name} (${describeSelector(t)})`).join('; ');
      return {
        ok: false,
        reason: `no agents for ${what} within ${opts.timeoutMs} ms of waiting (connected: ${list}); nothing was applied`,
      };
    }
    await abortableSleep(Math.min(50, Math.max(1, deadline - Date.now())), opts.signal);
  }
}

/**
 * Why `params` do not fit the JSON Schema an agent advertised for the type, or null when they do
 * (or when the schema cannot be read back: the agent validates on apply anyway).
 */
function paramsProblem(schema: Record<string, unknown>, params: unknown): string | null {
  let parsed: ReturnType<z.ZodType['safeParse']>;
  try {
    parsed = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]).safeParse(params);
  } catch {
    return null;
  }
  if (parsed.success) return null;
  return parsed.error.issues
    .map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`)
    .join('; ');
}

/** What a fault sent for `on` acts on at `agent`: a sidecar takes `host` to mean its own target. */
function onAgent(agent: AgentInfo, on: AgentTarget): AgentTarget {
  return agent.mode === 'sidecar' && on === 'host' && agent.target ? (agent.target as AgentTarget) : on;
}

/**
 * What the chosen agents cannot do: a fault type an agent does not advertise, a target kind the
 * type does not act on there, params that do not fit the type's advertised schema, or a halted
 * agent. Empty when every fault can be applied.
 */
export function capabilityProblems(
  faults: readonly { id: string; type: string; agent: AgentInfo; on: AgentTarget; params?: unknown }[],
): string[] {
  const problems: string[] = [];
  for (const f of faults) {
    const advertised = f.agent.faults.find((x) => x.type === f.type);
    if (!advertised) {
      problems.push(
        `agent ${f.agent.agentId} does not offer fault type ${f.type} (it offers: ${f.agent.faults.map((x) => x.type).join(', ') || 'none'})`,
      );
    } else if (!actsOn(advertised.targets, onAgent(f.agent, f.on))) {
      const on = onAgent(f.agent, f.on);
      problems.push(
        `fault type ${f.type} on agent ${f.agent.agentId} does not act on ${targetKind(on)} targets (${on}); it acts on: ${advertised.targets.join(', ')}`,
      );
    } else if (f.params !== undefined && paramsProblem(advertised.paramsSchema, f.params) !== null) {
      problems.push(
        `params of ${f.type} do not fit what agent ${f.agent.agentId} accepts: ${paramsProblem(advertised.paramsSchema, f.params)}`,
      );
    } else if (f.agent.halted) {
      problems.push(`agent ${f.agent.agentId} is halted (\`faultline agent resume\` lifts it)`);
    }
  }
  return [...new Set(problems)];
}
