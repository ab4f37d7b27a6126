import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { AdminContext } from './admin-context.ts';
import { parseInput } from './parse-input.ts';

const WindowQuery = z.object({
  /** Window length, seconds (1-300). Default 10. */
  seconds: z.coerce.number().positive().max(300).default(10),
  samples: z.enum(['true', 'false', '1', '0']).default('false'),
});

/** The JSON window (WindowReport) per proxy, and Prometheus text at /metrics. */
export const metricsRoutes: FastifyPluginAsync<AdminContext> = async (app, ctx) => {
  app.get<{ Params: { name: string } }>('/faultline/proxies/:name/window', async (req) => {
    const q = parseInput(WindowQuery, req.query, 'window query');
    ctx.manager.get(req.params.name); // 404 for an unknown proxy
    return ctx.metrics.window(req.params.name, q.seconds, q.samples === 'true' || q.samples === '1');
  });

  app.get('/metrics', async (_req, reply) =>
    reply.type('text/plain; version=0.0.4; charset=utf-8').send(ctx.metrics.renderPrometheus()),
  );
};
