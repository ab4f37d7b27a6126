import { parseArgs } from 'node:util';
import pino from 'pino';
import { FaultlineError } from '../../protocol/errors.ts';
import { PROXY_NODE_FLAGS } from '../../proxy/node-flags.ts';
import { loadProxyConfigFile } from '../../proxy/proxy-config-file.ts';
import { DEFAULT_ADMIN, type ProxyServer, startProxyServer } from '../../proxy/proxy-server.ts';
import type { Command } from '../main.ts';
import { restartWithNodeFlags } from '../restart-with-node-flags.ts';

/** How long in-flight exchanges get to finish after SIGTERM or SIGINT, ms. */
const DRAIN_MS = 5_000;

const USAGE = `usage: faultline proxy [--config FILE] [--admin HOST:PORT]

  --config FILE      proxies to start: JSON or YAML, {proxies: [...]} or a Toxiproxy-style array
  --admin HOST:PORT  admin API address (default ${DEFAULT_ADMIN}); Faultline's API under /faultline,
                     Toxiproxy's at the root, Prometheus metrics at /metrics

SIGTERM or SIGINT stops accepting, lets in-flight exchanges finish (up to ${DRAIN_MS / 1000} s) and exits 0.
The process restarts itself in place (same pid) with the V8 flags ${PROXY_NODE_FLAGS.join(' ')}
unless Node was started with them or with other values for them (docs/performance-notes.md has why).`;

export const command: Command = {
  summary: 'run the fault-injecting proxy (Faultline and Toxiproxy-compatible admin API)',
  async run(argv) {
    let args: { config?: string; admin?: string; help?: boolean };
    try {
      args = parseArgs({
        args: argv,
        options: {
          config: { type: 'string' },
          admin: { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
        strict: true,
      }).values;
    } catch (err) {
      throw new FaultlineError('INVALID_INPUT', `${(err as Error).message}\n\n${USAGE}`);
    }
    if (args.help) {
      console.log(USAGE);
      return 0;
    }
    // Before anything is opened or printed: the restart keeps only the pid, stdio and environment.
    restartWithNodeFlags(PROXY_NODE_FLAGS);
    const log = pino({ name: 'faultline-proxy' }, pino.destination({ fd: 2, sync: true }));
    const proxies = args.config ? await loadProxyConfigFile(args.config) : [];

    // Signal handlers go in before anything is printed: a signal that arrives while no listener is
    // registered kills the process outright, and a supervisor may signal as soon as it sees the URL.
    let server: ProxyServer | undefined;
    let stopRequested: NodeJS.Signals | undefined;
    let finish: (code: number) => void = () => {};
    const finished = new Promise<number>((resolve) => {
      finish = resolve;
    });
    const drain = (s: ProxyServer, signal: NodeJS.Signals) => {
      log.info({ signal, drainMs: DRAIN_MS }, 'draining');
      s.close(DRAIN_MS).then(
        () => {
          log.info({}, 'stopped');
          // Exit even if some stray handle would keep the loop alive; unref'd so it never delays.
          setTimeout(() => process.exit(0), 1_000).unref();
          finish(0);
        },
        (err: unknown) => {
          log.error({ err }, 'error while stopping');
          finish(4);
        },
      );
    };
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopRequested) {
        // A second signal means "now": skip the rest of the drain.
        log.warn({ signal }, 'second signal; exiting without waiting');
        process.exit(1);
      }
      stopRequested = signal;
      if (server) drain(server, signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);

    server = await startProxyServer({ admin: args.admin ?? DEFAULT_ADMIN, proxies, log });
    console.log(`faultline proxy: admin API on ${server.adminUrl}`);
    // Signalled while starting: stop now that there is something to stop.
    if (stopRequested) drain(server, stopRequested);
    return finished;
  },
};
