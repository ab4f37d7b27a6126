import type { FastifyPluginAsync } from 'fastify';
import { FaultlineError, isFaultlineError } from '../../protocol/errors.ts';
import type { AdminContext } from './admin-context.ts';

interface NameParams {
  name: string;
}

/** /faultline/proxies: list, create, read, change and remove named proxies. */
export const proxyRoutes: FastifyPluginAsync<AdminContext> = async (app, ctx) => {
  const { manager } = ctx;

  app.get('/faultline/proxies', async () => manager.list());

  app.post('/faultline/proxies', async (req, reply) => {
    const view = await manager.add(req.body as never);
    return reply.code(201).send(view);
  });

  app.get<{ Params: NameParams }>('/faultline/proxies/:name', async (req) => manager.get(req.params.name));

  app.patch<{ Params: NameParams }>('/faultline/proxies/:name', async (req) => {
    try {
      return await manager.update(req.params.name, req.body === undefined ? {} : req.body);
    } catch (err) {
      if (isFaultlineError(err)) throw err;
      // A listener that cannot bind its new address (in use, not ours) is a conflict, not a bug.
      throw new FaultlineError(
        'CONFLICT',
        `proxy ${req.params.name} cannot apply the change: ${(err as Error).message}`,
        {
          proxy: req.params.name,
        },
      );
    }
  });

  app.delete<{ Params: NameParams }>('/faultline/proxies/:name', async (req, reply) => {
    await manager.remove(req.params.name);
    return reply.code(204).send();
  });
};
