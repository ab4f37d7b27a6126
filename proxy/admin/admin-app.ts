import Fastify, { type FastifyInstance } from 'fastify';
import { FaultlineError } from '../../protocol/errors.ts';
import { type Logger, silentLogger } from '../listener.ts';
import type { ProxyMetrics } from '../metrics/proxy-metrics.ts';
import type { ProxyManager } from '../proxy-manager.ts';
import type { AdminContext } from './admin-context.ts';
import { browserGuard } from './browser-guard.ts';
import { errorBody } from './error-reply.ts';
import { faultRoutes } from './fault-routes.ts';
import { faultTypeRoutes } from './fault-type-routes.ts';
import { healthRoutes } from './health-routes.ts';
import { metricsRoutes } from './metrics-routes.ts';
import { proxyRoutes } from './proxy-routes.ts';
import { toxiproxyRoutes } from './toxiproxy-routes.ts';

export interface AdminAppOptions {
  manager: ProxyManager;
  metrics: ProxyMetrics;
  /** Reported by /faultline/health and /version. */
  version: string;
  /** Where unexpected (500) errors are logged. Default: silent. */
  log?: Logger;
  /** Largest request body accepted, bytes. Default 1 MiB. */
  bodyLimitBytes?: number;
}

/**
 * The proxy's admin API as a fastify instance, not yet listening (tests use `app.inject()`).
 * Faultline's routes live under /faultline (plus /metrics); Toxiproxy-compatible routes at the root.
 */
export function buildAdminApp(opts: AdminAppOptions): FastifyInstance {
  const ctx: AdminContext = {
    manager: opts.manager,
    metrics: opts.metrics,
    version: opts.version,
    log: opts.log ?? silentLogger,
  };
  const app = Fastify({ logger: false, bodyLimit: opts.bodyLimitBytes ?? 1024 * 1024 });

  app.addHook('onRequest', browserGuard);
  // Many clients send `content-type: application/json` with no body (POST /faultline/reset, a renew
  // without a new lease): read that as no body. Anything else goes to fastify's parser, which also
  // refuses `__proto__` keys.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (body === '' || (typeof body === 'string' && body.trim() === '')) return done(null, undefined);
    parseJson(req, body as string, done);
  });
  app.setErrorHandler((err, _req, reply) => {
    const { status, body } = errorBody(err, ctx.log);
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    const err = new FaultlineError('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`, {
      method: req.method,
    });
    return reply.code(404).send(err.toBody());
  });

  app.register(healthRoutes, ctx);
  app.register(proxyRoutes, ctx);
  app.register(faultRoutes, ctx);
  app.register(metricsRoutes, ctx);
  app.register(faultTypeRoutes, ctx);
  app.register(toxiproxyRoutes, ctx);
  return app;
}
