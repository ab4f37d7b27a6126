import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runExperiment } from '../../controller/engine/run-experiment.ts';
import { newRunId } from '../../controller/engine/run-plan.ts';
import { DEFAULT_STORE_PATH, SqliteRunStore } from '../../controller/store/sqlite-run-store.ts';
import { parseDurationMs } from '../../protocol/duration.ts';
import { FaultlineError } from '../../protocol/errors.ts';
import type { Experiment } from '../../protocol/experiment.ts';
import { formatExperimentError, parseExperimentText } from '../../protocol/experiment-parse.ts';
import type { JournalFile } from '../../protocol/journal.ts';
import { EXIT_CODES, type Verdict } from '../../protocol/verdict.ts';
import { startProxyServer } from '../../proxy/proxy-server.ts';
import { experimentFaultHooks } from '../experiment-hooks.ts';
import type { Command } from '../main.ts';
import {
  checkRunAgentsOptions,
  DEFAULT_LOCAL_AGENT_LABELS,
  parseLabelList,
  type RunAgents,
  type RunAgentsOptions,
  startRunAgents,
} from '../run-agents.ts';
import { RunProgress } from '../run-progress.ts';

/** How long a run waits for the agents its targets select when `--wait-agents` is not given, ms. */
const DEFAULT_WAIT_AGENTS_MS = 10_000;

const USAGE = `usage: faultline run <experiment> [--json] [--journal out.json] [--store PATH] [--proxy-admin URL]
                     [--listen HOST:PORT] [--agent-token T] [--wait-agents 10s] [--agent-labels k=v,...]
                     [--agent-id ID] [--agent-state-dir DIR] [--no-local-agent]

Runs an experiment: steady state before, faults with leases, guards, revert, rollbacks, steady
state after, verdict. Proxies in spec.proxies are started in this process unless --proxy-admin
(or spec.proxyAdmin) points at a running \`faultline proxy\`. When targets select agents, an
agent hub starts (loopback, free port) with an agent in this process; with --listen, agents
started elsewhere (\`faultline agent --controller ws://HOST:PORT\`) take part too.

  --json              print the verdict as JSON on stdout (progress stays on stderr)
  --journal FILE      write the run's journal as JSON (see docs/journal.md)
  --store PATH        sqlite file for runs and journals (default ${DEFAULT_STORE_PATH})
  --proxy-admin URL   admin API of a running proxy, e.g. http://127.0.0.1:8474
  --listen HOST:PORT  where the agent hub listens (default 127.0.0.1:0); a non-loopback
                      address needs --agent-token
  --agent-token T     token agents present (or FAULTLINE_AGENT_TOKEN; random on loopback)
  --wait-agents D     how long to wait for the selected agents before anything else
                      (default ${DEFAULT_WAIT_AGENTS_MS / 1000}s); then the run fails and applies nothing
  --agent-labels L    labels of the in-process agent (default ${Object.entries(DEFAULT_LOCAL_AGENT_LABELS)
    .map(([k, v]) => `${k}=${v}`)
    .join(',')})
  --agent-id ID       id of the in-process agent (default local-<host name>)
  --agent-state-dir D its ledger and control socket (default .faultline/agent-<id>)
  --no-local-agent    start no agent in this process: only agents that dial --listen take part

Exit code: 0 held, 1 deviated, 2 invalid input, 3 aborted by a guard, 4 failed, 5 interrupted.
SIGINT/SIGTERM revert every fault and end the run "interrupted" (exit 5).`;

/** Reads and parses an experiment file; errors are printed as `file:line:col: path: message`. */
export function loadExperiment(file: string): Experiment {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new FaultlineError(
      'INVALID_INPUT',
      `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? err})`,
      { file },
    );
  }
  const parsed = parseExperimentText(text, file, experimentFaultHooks);
  if (!parsed.ok) {
    throw new FaultlineError(
      'INVALID_EXPERIMENT',
      `${file} is not a valid experiment:\n${parsed.errors.map(formatExperimentError).join('\n')}`,
      {
        file,
      },
    );
  }
  return parsed.experiment;
}

/** Options of {@link executeRun}, shared by `run` and `demo`. */
export interface ExecuteRunOptions {
  experiment: Experiment;
  json?: boolean;
  journalPath?: string | undefined;
  storePath?: string | undefined;
  proxyAdmin?: string | undefined;
  /** Hub and in-process agent settings, used when targets select agents. */
  agents?: Omit<RunAgentsOptions, 'log'>;
  /** How long to wait for the selected agents, ms. Default 10000. */
  waitAgentsMs?: number | undefined;
}

/**
 * Starts what the experiment needs in this process (its proxies, on an ephemeral admin port),
 * runs it with live progress, prints the verdict and returns the exit code. SIGINT/SIGTERM
 * interrupt the run (revert first); a second signal exits at once (leases clean up).
 */
export async function executeRun(opts: ExecuteRunOptions): Promise<number> {
  const { experiment } = opts;
  const external = opts.proxyAdmin ?? experiment.spec.proxyAdmin;
  const server = external
    ? null
    : await startProxyServer({ admin: '127.0.0.1:0', proxies: experiment.spec.proxies });
  const adminUrl = external ?? server!.adminUrl;
  let agents: RunAgents | null = null;
  if (Object.values(experiment.spec.targets).some((t) => t.agents !== undefined)) {
    try {
      agents = await startRunAgents({
        ...opts.agents,
        log: (line) => process.stderr.write(`faultline run: ${line}\n`),
      });
    } catch (err) {
      await server?.close(0);
      process.stderr.write(`faultline run: cannot start the agent hub or agent: ${(err as Error).message}\n`);
      return EXIT_CODES.failed;
    }
  }
  const store = new SqliteRunStore(opts.storePath ?? DEFAULT_STORE_PATH);
  const interrupt = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      process.stderr.write(
        `faultline run: second ${signal}; exiting now (fault leases expire on their own)\n`,
      );
      // The in-process agent's lease timers die with this process: let it revert first (bounded).
      const closing = agents ? agents.close() : Promise.resolve();
      const bound = new Promise((r) => setTimeout(r, 2_000).unref());
      void Promise.race([closing, bound]).finally(() => process.exit(EXIT_CODES.interrupted));
      return;
    }
    process.stderr.write(`faultline run: ${signal}: reverting every fault...\n`);
    interrupt.abort('interrupted');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const runId = newRunId();
  const progress = new RunProgress({ stream: process.stderr, experiment: experiment.metadata.name, runId });
  let verdict: Verdict;
  try {
    verdict = await runExperiment({
      experiment,
      store,
      proxyAdminUrl: adminUrl,
      ...(agents ? { agentHub: agents.hub } : {}),
      waitForAgentsMs: opts.waitAgentsMs ?? DEFAULT_WAIT_AGENTS_MS,
      signal: interrupt.signal,
      onProgress: (e) => progress.onProgress(e),
      runId,
    });
    progress.finish();
    if (opts.journalPath) {
      const run = await store.getRun(verdict.runId);
      const file: JournalFile = {
        format: 'faultline-journal/v1',
        run: run!,
        events: await store.events(verdict.runId),
      };
      writeFileSync(opts.journalPath, `${JSON.stringify(file, null, 2)}\n`);
    }
  } finally {
    progress.finish();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await store.close();
    await agents?.close().catch((err: Error) => {
      process.stderr.write(`faultline run: closing the in-process agent: ${err.message}\n`);
    });
    await server?.close(0);
  }
  if (opts.json) process.stdout.write(`${JSON.stringify(verdict, null, 2)}\n`);
  else process.stdout.write(`${RunProgress.formatVerdict(verdict)}\n`);
  return verdict.exitCode;
}

export const command: Command = {
  summary: 'run an experiment: hypothesis, faults with leases, guards, revert, verdict',
  async run(argv) {
    let parsed: ReturnType<typeof parseRunArgs>;
    try {
      parsed = parseRunArgs(argv);
    } catch (err) {
      console.error(`faultline run: ${(err as Error).message}\n\n${USAGE}`);
      return EXIT_CODES.invalid;
    }
    const { values, positionals } = parsed;
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (positionals.length !== 1) {
      console.error(USAGE);
      return EXIT_CODES.invalid;
    }
    let experiment: Experiment;
    let agents: Omit<RunAgentsOptions, 'log'>;
    let waitAgentsMs: number | undefined;
    try {
      experiment = loadExperiment(positionals[0]!);
      agents = {
        listen: values.listen,
        token: values['agent-token'] ?? process.env.FAULTLINE_AGENT_TOKEN,
        localAgent: !values['no-local-agent'],
        labels: values['agent-labels'] === undefined ? undefined : parseLabelList(values['agent-labels']),
        agentId: values['agent-id'],
        stateDir: values['agent-state-dir'],
      };
      checkRunAgentsOptions(agents);
      if (values['wait-agents'] !== undefined) {
        waitAgentsMs = parseDurationMs(values['wait-agents']);
        if (waitAgentsMs === undefined)
          throw new FaultlineError(
            'INVALID_INPUT',
            `--wait-agents: expected a duration like 500ms, 10s or 2m, got "${values['wait-agents']}"`,
          );
      }
    } catch (err) {
      console.error((err as Error).message);
      return EXIT_CODES.invalid;
    }
    return executeRun({
      experiment,
      json: values.json ?? false,
      journalPath: values.journal,
      storePath: values.store,
      proxyAdmin: values['proxy-admin'],
      agents,
      waitAgentsMs,
    });
  },
};

function parseRunArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean' },
      journal: { type: 'string' },
      store: { type: 'string' },
      'proxy-admin': { type: 'string' },
      listen: { type: 'string' },
      'agent-token': { type: 'string' },
      'wait-agents': { type: 'string' },
      'agent-labels': { type: 'string' },
      'agent-id': { type: 'string' },
      'agent-state-dir': { type: 'string' },
      'no-local-agent': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
