import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { UndoRecipe } from '../../controller/dispatch/fault-executor.ts';
import { runExperiment } from '../../controller/engine/run-experiment.ts';
import { newRunId, planRun } from '../../controller/engine/run-plan.ts';
import { DEFAULT_STORE_PATH, SqliteRunStore } from '../../controller/store/sqlite-run-store.ts';
import { FaultlineError } from '../../protocol/errors.ts';
import type { Experiment } from '../../protocol/experiment.ts';
import { formatExperimentError, parseExperimentText } from '../../protocol/experiment-parse.ts';
import type { JournalFile } from '../../protocol/journal.ts';
import type { ProxyMode } from '../../protocol/proxy.ts';
import { EXIT_CODES, type Verdict } from '../../protocol/verdict.ts';
import { faultRegistry } from '../../proxy/faults/registry.ts';
import { startProxyServer } from '../../proxy/proxy-server.ts';
import type { Command } from '../main.ts';
import { RunProgress } from '../run-progress.ts';

const USAGE = `usage: faultline run <experiment> [--json] [--journal out.json] [--store PATH] [--proxy-admin URL]

Runs an experiment: steady state before, faults with leases, guards, revert, rollbacks, steady
state after, verdict. Proxies in spec.proxies are started in this process unless --proxy-admin
(or spec.proxyAdmin) points at a running \`faultline proxy\`.

  --json              print the verdict as JSON on stdout (progress stays on stderr)
  --journal FILE      write the run's journal as JSON (see docs/journal.md)
  --store PATH        sqlite file for runs and journals (default ${DEFAULT_STORE_PATH})
  --proxy-admin URL   admin API of a running proxy, e.g. http://127.0.0.1:8474

Exit code: 0 held, 1 deviated, 2 invalid input, 3 aborted by a guard, 4 failed, 5 interrupted.
SIGINT/SIGTERM revert every fault and end the run "interrupted" (exit 5).`;

// Fault params are checked with the proxy's own registry, as `faultline validate` does.
const faultHooks = {
  faultParams: (mode: ProxyMode, type: string) => faultRegistry[mode].get(type)?.params,
  faultTypes: (mode: ProxyMode) => [...faultRegistry[mode].keys()],
};

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
  const parsed = parseExperimentText(text, file, faultHooks);
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
  const store = new SqliteRunStore(opts.storePath ?? DEFAULT_STORE_PATH);
  const interrupt = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      process.stderr.write(
        `faultline run: second ${signal}; exiting now (fault leases expire on their own)\n`,
      );
      process.exit(EXIT_CODES.interrupted);
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
    try {
      experiment = loadExperiment(positionals[0]!);
      // Targets a standalone run cannot reach (agents) are input errors, found before anything starts.
      planRun(experiment, 'check', { undoFor: () => ({}) as UndoRecipe });
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
      help: { type: 'boolean', short: 'h' },
    },
  });
}
