import { parseArgs } from 'node:util';
import { agentUndoRecipe } from '../../controller/dispatch/agent-executor.ts';
import type { FaultRequest, UndoRecipe } from '../../controller/dispatch/fault-executor.ts';
import { ProxyExecutor } from '../../controller/dispatch/proxy-executor.ts';
import { planRun, type RunPlan } from '../../controller/engine/run-plan.ts';
import { EXIT_CODES } from '../../protocol/verdict.ts';
import type { Command } from '../main.ts';
import { loadExperiment } from './run.ts';

const USAGE = `usage: faultline plan <experiment> [--json] [--proxy-admin URL]

Dry run: prints the resolved targets, each fault with its undo recipe, the guards and the
predicted blast radius. Applies nothing and contacts nothing, so agents are not chosen yet: an
agent step is shown once, for agent "*" (a run makes one fault per chosen agent).`;

/** Admin URL shown in undo recipes when the proxies would be started in-process (port chosen at run time). */
const IN_PROCESS_ADMIN = 'http://in-process-admin';

function ms(n: number): string {
  return n >= 1000 ? `${n / 1000}s` : `${n}ms`;
}

function describeTarget(t: RunPlan['targets'][number]): string {
  if (t.kind === 'proxy') return `proxy ${t.proxy}`;
  const sel = [
    ...Object.entries(t.selector.labels ?? {}).map(([k, v]) => `${k}=${v}`),
    ...(t.selector.ids ? [`ids ${t.selector.ids.join(',')}`] : []),
  ];
  const how = t.mode === 'all' ? 'all' : t.mode === 'count' ? `${t.value} of` : `${t.value}% of`;
  const chosen = t.agents ? `: ${t.agents.join(', ') || 'none'}` : ' (chosen at run time)';
  return `agents, ${how} matching ${sel.join(' ') || 'any'}, acting on ${t.on}${chosen}`;
}

function describeUndo(undo: UndoRecipe): string {
  if (undo.kind === 'proxy-fault') return `${undo.http.method} ${undo.http.url}`;
  return `revert ${undo.faultId} on agent ${undo.agentId} (its ledger holds the details)`;
}

export function formatPlan(plan: RunPlan): string {
  const out = [`plan for ${plan.experiment} (nothing is applied)`, '', 'targets:'];
  for (const t of plan.targets) out.push(`  ${t.name}: ${describeTarget(t)}`);
  out.push('', 'faults:');
  for (const f of plan.faults) {
    const r = f.request;
    const where =
      r.target.kind === 'proxy'
        ? `proxy ${r.target.proxy}, ${r.direction}`
        : `agent ${r.target.agentId}, ${r.target.on}`;
    out.push(
      `  [${f.step}] ${r.type} on ${r.targetName} (${where}) ${JSON.stringify(r.params)}`,
      r.target.kind === 'proxy'
        ? `      ${r.percent}% of ${r.match ? `requests matching ${JSON.stringify(r.match)}` : 'all traffic'}, from +${ms(f.startOffsetMs)} for ${ms(f.durationMs)}`
        : `      on each chosen agent (agent faults have no traffic share), from +${ms(f.startOffsetMs)} for ${ms(f.durationMs)}`,
      `      id ${f.id}`,
      `      undo: ${describeUndo(f.undo)}  (and its lease expires on its own)`,
    );
  }
  if (plan.rampUp)
    out.push(
      '',
      `ramp: ${plan.rampUp.stages.join('% → ')}%, ${ms(plan.rampUp.stageDurationMs)} per stage, only while the hypothesis holds`,
    );
  out.push('', 'guards:');
  if (plan.guards.length === 0) out.push('  (none: only the hypothesis before and after)');
  for (const g of plan.guards) out.push(`  ${g.name}: ${g.summary}`);
  const b = plan.blastRadius;
  out.push(
    '',
    'predicted blast radius:',
    `  targets ${b.targets.join(', ') || '(none)'} on proxies ${b.proxies.join(', ') || '(none)'} and agents ${b.agents.join(', ') || '(none)'}`,
    `  at most ${b.maxPercent}% of matching traffic, ${b.maxConcurrentFaults} fault(s) at once, longest ${ms(b.longestFaultMs)}`,
    `  faults on for about ${ms(plan.predictedRunningMs)} unless a guard aborts sooner`,
  );
  return out.join('\n');
}

export const command: Command = {
  summary: 'dry run: targets, faults with their undo, guards, blast radius',
  async run(argv) {
    let parsed: { values: { json?: boolean; 'proxy-admin'?: string; help?: boolean }; positionals: string[] };
    try {
      parsed = parseArgs({
        args: argv,
        allowPositionals: true,
        strict: true,
        options: {
          json: { type: 'boolean' },
          'proxy-admin': { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
      });
    } catch (err) {
      console.error(`faultline plan: ${(err as Error).message}\n\n${USAGE}`);
      return EXIT_CODES.invalid;
    }
    if (parsed.values.help) {
      console.log(USAGE);
      return 0;
    }
    if (parsed.positionals.length !== 1) {
      console.error(USAGE);
      return EXIT_CODES.invalid;
    }
    let plan: RunPlan;
    try {
      const experiment = loadExperiment(parsed.positionals[0]!);
      const adminUrl = parsed.values['proxy-admin'] ?? experiment.spec.proxyAdmin ?? IN_PROCESS_ADMIN;
      // Only used for undo recipes; never contacts the admin API (nothing is applied).
      const executor = new ProxyExecutor({ adminUrl });
      const undoFor = (r: FaultRequest): UndoRecipe =>
        r.target.kind === 'proxy' ? executor.undoFor(r) : agentUndoRecipe(r);
      plan = planRun(experiment, 'plan', { undoFor });
      await executor.close();
    } catch (err) {
      console.error((err as Error).message);
      return EXIT_CODES.invalid;
    }
    if (parsed.values.json) {
      const { faults, ...rest } = plan;
      console.log(JSON.stringify({ ...rest, faults: faults.map(({ stepSpec: _s, ...f }) => f) }, null, 2));
    } else {
      console.log(formatPlan(plan));
    }
    return 0;
  },
};
