import type { FastifyReply, FastifyRequest } from 'fastify';
import { FaultlineError } from '../../protocol/errors.ts';

/**
 * The admin API has no authentication and listens on loopback, so any web page open in a browser on
 * the same machine could send it "simple" cross-site requests (a text/plain POST needs no CORS
 * preflight) and reset or create proxies. Browsers always say where such a request comes from
 * (`Origin`, and `Sec-Fetch-Site` in current ones), so refuse requests from another site.
 * Toxiproxy guards the same hole by refusing browser user agents.
 */
export function isCrossSiteBrowserRequest(req: FastifyRequest): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return true;
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true;
  }
}

/** onRequest hook: Faultline routes answer 401 UNAUTHORIZED, Toxiproxy routes its `{error, status}` 403. */
export async function browserGuard(req: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (!isCrossSiteBrowserRequest(req)) return;
  const message = 'cross-site browser requests are not allowed';
  if (req.url.startsWith('/faultline/') || req.url === '/metrics') {
    const err = new FaultlineError('UNAUTHORIZED', message, { origin: req.headers.origin ?? null });
    await reply.code(401).send(err.toBody());
  } else {
    await reply.code(403).send({ error: message, status: 403 });
  }
}
