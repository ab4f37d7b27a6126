import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { FaultlineError } from '../../protocol/errors.ts';
import { MAX_LEASE_MS } from '../../protocol/lease.ts';
import { RenewRequest } from '../../protocol/proxy.ts';
import type { AdminContext } from './admin-context.ts';
import { parseInput } from './parse-input.ts';

const FaultListQuery = z.object({ proxy: z.string().optional() });

/**
 * Every fault applied through this API has a lease, so a controller that dies leaves nothing behind
 * for longer than the lease. `leaseMs: 0` (no lease) is kept for Toxiproxy toxics, whose clients
 * never renew; they are applied through the Toxiproxy routes.
 */
function refuseNoLease(body: unknown): void {
  if (typeof body === 'object' && body !== null && (body as { leaseMs?: unknown }).leaseMs === 0) {
    throw new FaultlineError(
      'INVALID_INPUT',
      `invalid fault: leaseMs must be at least 1 ms: every fault applied here has a lease; renew it to keep the fault (at most ${MAX_LEASE_MS} ms per lease)`,
      { field: 'leaseMs' },
    );
  }
}

/** Faults: apply to a proxy, list, read, renew a lease, revert one, revert all. */
export const faultRoutes: FastifyPluginAsync<AdminContext> = async (app, ctx) => {
  const { manager } = ctx;
  const store = manager.faults;

  app.get<{ Params: { name: string } }>('/faultline/proxies/:name/faults', async (req) => {
    manager.get(req.params.name); // 404 for an unknown proxy rather than an empty list
    return store.list(req.params.name);
  });

  app.post<{ Params: { name: string } }>('/faultline/proxies/:name/faults', async (req, reply) => {
    refuseNoLease(req.body);
    const view = store.apply(req.params.name, (req.body === undefined ? {} : req.body) as never);
    ctx.log.info(
      { proxy: view.proxy, fault: view.id, type: view.type, leaseMs: view.leaseMs },
      'fault applied',
    );
    return reply.code(201).send(view);
  });

  app.get('/faultline/faults', async (req) => {
    const q = parseInput(FaultListQuery, req.query, 'query');
    return store.list(q.proxy);
  });

  app.get<{ Params: { id: string } }>('/faultline/faults/:id', async (req) => {
    const fault = store.get(req.params.id);
    if (!fault)
      throw new FaultlineError('NOT_FOUND', `fault ${req.params.id} is not active`, { id: req.params.id });
    return fault.view();
  });

  app.post<{ Params: { id: string } }>('/faultline/faults/:id/renew', async (req) => {
    const body = parseInput(RenewRequest, req.body === undefined ? {} : req.body, 'renew request');
    return store.renew(req.params.id, body.leaseMs);
  });

  app.delete<{ Params: { id: string } }>('/faultline/faults/:id', async (req) => {
    const reverted = store.revert(req.params.id);
    if (reverted) ctx.log.info({ fault: req.params.id }, 'fault reverted');
    return { reverted };
  });

  app.post('/faultline/reset', async () => {
    const reverted = store.reset();
    ctx.log.info({ reverted }, 'all faults reverted');
    return { reverted };
  });
};
