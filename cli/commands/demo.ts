import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EXIT_CODES } from '../../protocol/verdict.ts';
import { startSampleService } from '../../scripts/sample-service.ts';
import type { Command } from '../main.ts';
import { executeRun, loadExperiment } from './run.ts';

const DEMO_FILE = fileURLToPath(new URL('../../experiments/demo-latency.yaml', import.meta.url));
/** Where the demo's sample service listens; the demo experiment's proxy forwards to it. */
const SAMPLE_PORT = 18080;
/** The sample service's own delay on /checkout, ms. */
const SAMPLE_DELAY_MS = 20;

const USAGE = `usage: faultline demo [--json] [--store PATH]

Starts the sample service on 127.0.0.1:${SAMPLE_PORT} (~${SAMPLE_DELAY_MS} ms per checkout) and runs
experiments/demo-latency.yaml: a proxy on 127.0.0.1:18081 with traffic through it, latency ramping
5 → 25 → 50 → 100 %, a guard that breaches, every fault reverted, and the abort latency in the
verdict. The run is meant to end aborted by its guard: then the demo exits 0. Any other ending
exits with the run's own code (see \`faultline run --help\`). About 20 s.`;

export const command: Command = {
  summary: 'run the latency demo against the bundled sample service (about 20 s)',
  async run(argv) {
    let values: { json?: boolean; store?: string; help?: boolean };
    try {
      values = parseArgs({
        args: argv,
        strict: true,
        options: {
          json: { type: 'boolean' },
          store: { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
      }).values;
    } catch (err) {
      console.error(`faultline demo: ${(err as Error).message}\n\n${USAGE}`);
      return EXIT_CODES.invalid;
    }
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const experiment = loadExperiment(DEMO_FILE);
    let service: Awaited<ReturnType<typeof startSampleService>>;
    try {
      service = await startSampleService({
        host: '127.0.0.1',
        port: SAMPLE_PORT,
        baseDelayMs: SAMPLE_DELAY_MS,
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      console.error(
        code === 'EADDRINUSE'
          ? `faultline demo: port ${SAMPLE_PORT} on 127.0.0.1 is in use; the demo needs it (and 18081) free`
          : `faultline demo: cannot start the sample service: ${(err as Error).message}`,
      );
      return EXIT_CODES.failed;
    }
    process.stderr.write(`sample service on ${service.url} (${SAMPLE_DELAY_MS} ms per checkout)\n`);
    try {
      const code = await executeRun({ experiment, json: values.json ?? false, storePath: values.store });
      if (code !== EXIT_CODES.aborted) return code;
      // The abort is the point of the demo: the guard caught the regression and every fault is gone.
      process.stderr.write(
        'demo: the guard caught the latency, the run aborted and every fault was reverted.\n',
      );
      return 0;
    } finally {
      await service.close();
    }
  },
};
