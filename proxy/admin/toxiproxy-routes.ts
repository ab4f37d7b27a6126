import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { isFaultlineError } from '../../protocol/errors.ts';
import type { ProxyView } from '../proxy-manager.ts';
import type { AdminContext } from './admin-context.ts';
import { toFaultlineError } from './error-reply.ts';
import { ToxicBook, toxiError } from './toxic-book.ts';

/** A proxy in Toxiproxy's create/populate body. Unknown fields (e.g. `toxics`) are ignored. */
const ToxiProxyInput = z.object({
  name: z.string().optional(),
  /** Toxiproxy binds every interface when listen is empty; we bind loopback only. */
  listen: z.string().optional(),
  upstream: z.string().optional(),
  enabled: z.boolean().optional(),
});
const ToxiProxyUpdate = z.object({
  listen: z.string().optional(),
  upstream: z.string().optional(),
  enabled: z.boolean().optional(),
});

type Params = { proxy: string; toxic: string };

/**
 * Toxiproxy 2.x's HTTP API at the root, same shapes and status codes, so its client libraries work
 * unchanged. Proxies made here are TCP mode; toxics are TCP faults without a lease. Errors are
 * Toxiproxy's `{error, status}`, not Faultline's `{code, message, details}` (docs/admin-api.md).
 */
export const toxiproxyRoutes: FastifyPluginAsync<AdminContext> = async (app, ctx) => {
  const { manager } = ctx;
  const toxics = new ToxicBook(manager);

  app.setErrorHandler((err, _req, reply) => {
    const fe = toFaultlineError(err, ctx.log);
    const fromFastify = !isFaultlineError(err) && fe.code === 'INVALID_INPUT';
    const message = fromFastify ? `bad request body: ${fe.message}` : fe.message;
    return reply.code(fe.statusCode).send({ error: message, status: fe.statusCode });
  });
  // Toxiproxy reads any body as JSON; its README uses `curl -d`, which sends a form content type.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser(
    ['application/x-www-form-urlencoded', 'text/plain'],
    { parseAs: 'string' },
    (req, body, done) => {
      if (body === '') return done(null, undefined);
      parseJson(req, body as string, done);
    },
  );

  const show = (p: ProxyView) => ({
    name: p.name,
    listen: p.boundAddress ?? p.listen,
    upstream: p.upstream,
    enabled: p.enabled,
    toxics: toxics.list(p.name),
  });
  const proxyOf = (req: FastifyRequest<{ Params: Partial<Params> }>) => {
    const name = req.params.proxy!;
    if (!manager.has(name)) throw toxiError(404, 'proxy not found');
    return manager.get(name);
  };
  const parseProxy = (body: unknown, where = '') => {
    const parsed = ToxiProxyInput.safeParse(body ?? {});
    if (!parsed.success) throw toxiError(400, `bad request body: ${z.prettifyError(parsed.error)}`);
    const p = parsed.data;
    if (!p.name) throw toxiError(400, `missing required field: name${where}`);
    if (!p.upstream) throw toxiError(400, `missing required field: upstream${where}`);
    return {
      name: p.name,
      listen: p.listen || '127.0.0.1:0',
      upstream: p.upstream,
      enabled: p.enabled ?? true,
      mode: 'tcp' as const,
    };
  };
  const add = async (config: ReturnType<typeof parseProxy>) => {
    try {
      return await manager.add(config);
    } catch (err) {
      if (isFaultlineError(err, 'INVALID_INPUT')) throw toxiError(400, `bad request body: ${err.message}`);
      throw err;
    }
  };

  app.get('/version', async (_req, reply) =>
    reply.type('application/json;charset=utf-8').send(`${JSON.stringify({ version: ctx.version })}\n`),
  );

  app.post('/reset', async (_req, reply) => {
    manager.faults.reset();
    for (const p of manager.list()) if (!p.enabled) await manager.update(p.name, { enabled: true });
    return reply.code(204).send();
  });

  app.get('/proxies', async () => Object.fromEntries(manager.list().map((p) => [p.name, show(p)])));

  app.post('/proxies', async (req, reply) => {
    const config = parseProxy(req.body);
    if (manager.has(config.name)) throw toxiError(409, 'proxy already exists');
    return reply.code(201).send(show(await add(config)));
  });

  app.post('/populate', async (req, reply) => {
    if (!Array.isArray(req.body)) throw toxiError(400, 'bad request body: expected an array of proxies');
    // Check the whole request before changing anything, as Toxiproxy does.
    const configs = req.body.map((b, i) => parseProxy(b, ` at proxy ${i + 1}`));
    const seen = new Set<string>();
    for (const c of configs) {
      if (seen.has(c.name)) throw toxiError(400, `duplicate proxy name "${c.name}"`);
      seen.add(c.name);
    }
    const out = [];
    for (const c of configs) {
      if (manager.has(c.name)) {
        const cur = manager.get(c.name);
        // Same addresses: keep the running proxy (and its toxics); otherwise replace it.
        if ((cur.listen === c.listen || cur.boundAddress === c.listen) && cur.upstream === c.upstream) {
          out.push(show(cur));
          continue;
        }
        await manager.remove(c.name);
      }
      out.push(show(await add(c)));
    }
    return reply.code(201).send({ proxies: out });
  });

  app.get<{ Params: Params }>('/proxies/:proxy', async (req) => show(proxyOf(req)));

  const updateProxy = async (req: FastifyRequest<{ Params: Params }>) => {
    const cur = proxyOf(req);
    const parsed = ToxiProxyUpdate.safeParse(req.body ?? {});
    if (!parsed.success) throw toxiError(400, `bad request body: ${z.prettifyError(parsed.error)}`);
    const patch = { ...parsed.data };
    // Clients often send back the listen address they were shown (the bound one): not a change.
    if (patch.listen === cur.boundAddress || patch.listen === cur.listen) delete patch.listen;
    try {
      return show(await manager.update(cur.name, patch));
    } catch (err) {
      if (isFaultlineError(err, 'INVALID_INPUT')) throw toxiError(400, `bad request body: ${err.message}`);
      throw err;
    }
  };
  app.post<{ Params: Params }>('/proxies/:proxy', updateProxy);
  app.patch<{ Params: Params }>('/proxies/:proxy', updateProxy);

  app.delete<{ Params: Params }>('/proxies/:proxy', async (req, reply) => {
    await manager.remove(proxyOf(req).name);
    return reply.code(204).send();
  });

  app.get<{ Params: Params }>('/proxies/:proxy/toxics', async (req) => toxics.list(proxyOf(req).name));

  app.post<{ Params: Params }>('/proxies/:proxy/toxics', async (req) =>
    toxics.create(proxyOf(req).name, req.body),
  );

  app.get<{ Params: Params }>('/proxies/:proxy/toxics/:toxic', async (req) => {
    const toxic = toxics.find(proxyOf(req).name, req.params.toxic);
    if (!toxic) throw toxiError(404, 'toxic not found');
    return toxic;
  });

  const updateToxic = async (req: FastifyRequest<{ Params: Params }>) =>
    toxics.update(proxyOf(req).name, req.params.toxic, req.body);
  app.post<{ Params: Params }>('/proxies/:proxy/toxics/:toxic', updateToxic);
  app.patch<{ Params: Params }>('/proxies/:proxy/toxics/:toxic', updateToxic);

  app.delete<{ Params: Params }>('/proxies/:proxy/toxics/:toxic', async (req, reply) => {
    toxics.remove(proxyOf(req).name, req.params.toxic);
    return reply.code(204).send();
  });
};
