import type { FastifyPluginAsync } from 'fastify';
import type { AdminContext } from './admin-context.ts';

/** GET /faultline/health: liveness plus counts, cheap enough to poll. */
export const healthRoutes: FastifyPluginAsync<AdminContext> = async (app, ctx) => {
  app.get('/faultline/health', async () => ({
    status: 'ok',
    version: ctx.version,
    proxies: ctx.manager.list().length,
    faults: ctx.manager.faults.list().length,
  }));
};
