import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { faultRegistry } from '../faults/registry.ts';
import type { AdminContext } from './admin-context.ts';

/** GET /faultline/fault-types: every fault the proxy can apply, with its parameters' JSON Schema. */
export const faultTypeRoutes: FastifyPluginAsync<AdminContext> = async (app) => {
  // The registry is fixed for the life of the process, so the answer is computed once.
  const types = Object.values(faultRegistry).flatMap((byType) =>
    [...byType.values()].map((d) => ({
      mode: d.mode,
      type: d.type,
      summary: d.summary,
      directions: d.directions,
      paramsSchema: z.toJSONSchema(d.params, { io: 'input', unrepresentable: 'any' }),
      example: d.example,
    })),
  );
  app.get('/faultline/fault-types', async () => types);
};
