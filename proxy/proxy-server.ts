import pkg from '../package.json' with { type: 'json' };
import { FaultlineError } from '../protocol/errors.ts';
import { formatHostPort, parseHostPort } from '../protocol/host-port.ts';
import { HostPort, type ProxyConfigInput } from '../protocol/proxy.ts';
import { buildAdminApp } from './admin/admin-app.ts';
import { type Logger, silentLogger } from './listener.ts';
import { ProxyMetrics } from './metrics/proxy-metrics.ts';
import { ProxyManager } from './proxy-manager.ts';

export interface ProxyServerOptions {
  /** Admin API address, `host:port`; port 0 picks a free port. Default `127.0.0.1:8474` (Toxiproxy's). */
  admin?: string;
  /** Proxies to start with. */
  proxies?: ProxyConfigInput[];
  /** Structured logger (pino fits). Default: silent. */
  log?: Logger;
}

export interface ProxyServer {
  /** e.g. `http://127.0.0.1:8474`, with the real port when 0 was asked for. */
  adminUrl: string;
  manager: ProxyManager;
  metrics: ProxyMetrics;
  /**
   * Stops the admin API and every proxy: no new connections, in-flight exchanges get up to `drainMs`
   * (default 5,000 ms) to finish, then the rest are destroyed. Every fault is reverted.
   */
  close(drainMs?: number): Promise<void>;
}

export const DEFAULT_ADMIN = '127.0.0.1:8474';

/**
 * Starts a proxy process's parts in this process: the proxies, their metrics and the admin API.
 * `faultline proxy` and the standalone experiment runner (admin on port 0) both use it.
 */
export async function startProxyServer(opts: ProxyServerOptions = {}): Promise<ProxyServer> {
  const admin = opts.admin ?? DEFAULT_ADMIN;
  if (!HostPort.safeParse(admin).success) {
    throw new FaultlineError(
      'INVALID_INPUT',
      `admin address must be host:port, got ${JSON.stringify(admin)}`,
      { admin },
    );
  }
  const log = opts.log ?? silentLogger;
  const metrics = new ProxyMetrics();
  const manager = new ProxyManager({ metrics, log });
  metrics.attach(manager);
  manager.faults.on('expired', (f) =>
    log.warn({ proxy: f.proxy, fault: f.id, type: f.type }, 'fault lease expired; reverted'),
  );

  const app = buildAdminApp({ manager, metrics, version: pkg.version, log });
  try {
    for (const p of opts.proxies ?? []) await manager.add(p);
    const { host, port } = parseHostPort(admin);
    await app.listen({ host, port });
  } catch (err) {
    await Promise.allSettled([app.close(), manager.close(0)]);
    if (err instanceof FaultlineError) throw err;
    throw new FaultlineError('CONFLICT', `admin API cannot listen on ${admin}: ${(err as Error).message}`, {
      admin,
    });
  }
  const address = app.server.address();
  const bound =
    typeof address === 'object' && address ? formatHostPort(address.address, address.port) : admin;
  const adminUrl = `http://${bound}`;
  log.info(
    { adminUrl, proxies: manager.list().map((p) => ({ name: p.name, listen: p.boundAddress })) },
    'proxy admin API listening',
  );

  let closing: Promise<void> | undefined;
  return {
    adminUrl,
    manager,
    metrics,
    close(drainMs = 5_000) {
      closing ??= Promise.all([app.close(), manager.close(drainMs)]).then(() => undefined);
      return closing;
    },
  };
}
