import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { startAgent } from '../../agent/agent.ts';
import { type ControlCommand, sendControl } from '../../agent/control-socket.ts';
import { AgentId, AgentMode, AgentTarget } from '../../protocol/agent-wire.ts';
import { FaultlineError } from '../../protocol/errors.ts';
import type { Command } from '../main.ts';

const HELP = `usage: faultline agent --controller ws://HOST:PORT --token T [options]
       faultline agent halt|resume|status [--id ID | --state-dir DIR]

Runs an agent that dials the controller, applies faults with leases, and reverts them on its own
when renewals stop. On start it replays its ledger and sweeps leftovers of a previous crash.

options:
  --controller URL   hub to dial (ws://HOST:PORT); without it the agent runs local-only
  --token T          shared secret (or FAULTLINE_AGENT_TOKEN)
  --id ID            agent id (default: host name)
  --labels k=v,...   labels the controller selects agents by
  --mode host|sidecar
  --target T         sidecar target: pid:N, container:NAME, service:NAME
  --state-dir DIR    ledger and control socket (default .faultline/agent-<id>)

halt: reverts every fault and refuses new ones until resume (also: kill -USR2 <agent pid>).
SIGTERM / SIGINT: reverts every fault, exits 0.`;

function parseLabels(text: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  if (!text) return labels;
  for (const pair of text.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new FaultlineError('INVALID_INPUT', `label "${pair}" is not k=v`);
    labels[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return labels;
}

function parseOr<T>(
  schema: { safeParse(v: unknown): { success: boolean; data?: T } },
  value: unknown,
  what: string,
): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new FaultlineError('INVALID_INPUT', `invalid ${what}: ${String(value)}`);
  return r.data as T;
}

async function control(command: ControlCommand, argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { id: { type: 'string' }, 'state-dir': { type: 'string' } },
  });
  const id =
    values.id ??
    hostname()
      .replace(/[^A-Za-z0-9_.-]/g, '-')
      .slice(0, 64);
  const status = await sendControl(values['state-dir'] ?? `.faultline/agent-${id}`, command);
  console.log(JSON.stringify(status));
  return 0;
}

async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      controller: { type: 'string' },
      token: { type: 'string' },
      id: { type: 'string' },
      labels: { type: 'string' },
      mode: { type: 'string', default: 'host' },
      target: { type: 'string' },
      'state-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const token = values.token ?? process.env.FAULTLINE_AGENT_TOKEN;
  if (values.controller && !token)
    throw new FaultlineError('INVALID_INPUT', '--token is required with --controller');
  const agent = await startAgent({
    controller: values.controller,
    token: token ?? '',
    agentId: values.id === undefined ? undefined : parseOr<string>(AgentId, values.id, '--id'),
    labels: parseLabels(values.labels),
    mode: parseOr(AgentMode, values.mode, '--mode'),
    target: values.target === undefined ? undefined : parseOr(AgentTarget, values.target, '--target'),
    stateDir: values['state-dir'],
    log: (line) => console.error(`faultline agent: ${line}`),
  });
  console.error(`faultline agent: ${agent.agentId} ready (pid ${process.pid}, state ${agent.stateDir})`);
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      console.error(`faultline agent: ${signal}: reverting every fault`);
      agent.close().then(
        () => resolve(0),
        (err) => {
          console.error(`faultline agent: shutdown: ${(err as Error).message}`);
          resolve(4);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    process.on('SIGUSR2', () => void agent.halt());
  });
}

export const command: Command = {
  summary: 'run an agent (host or sidecar faults with leases); halt / resume a running one',
  run(argv) {
    const [sub, ...rest] = argv;
    if (sub === 'halt' || sub === 'resume' || sub === 'status') return control(sub, rest);
    return run(argv);
  },
};
