import { z } from 'zod';
import { type ErrorBody, FaultlineError } from '../../protocol/errors.ts';
import type { Logger } from '../listener.ts';

interface FastifyishError {
  code?: string;
  statusCode?: number;
  validation?: unknown;
  message?: string;
}

/**
 * Turns anything a route threw into Faultline's error shape: FaultlineError keeps its code;
 * zod and fastify input errors (validation, bad or empty JSON, wrong content type, body too large)
 * become 400 INVALID_INPUT; anything else is a 500 INTERNAL and is logged, since it is a bug.
 */
export function toFaultlineError(err: unknown, log: Logger): FaultlineError {
  if (err instanceof FaultlineError) return err;
  if (err instanceof z.ZodError) {
    return new FaultlineError('INVALID_INPUT', `invalid input: ${z.prettifyError(err)}`, {
      issues: err.issues,
    });
  }
  const e = (err ?? {}) as FastifyishError;
  if (e.validation !== undefined) {
    return new FaultlineError('INVALID_INPUT', e.message ?? 'invalid input', { validation: e.validation });
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    if (e.statusCode === 404) return new FaultlineError('NOT_FOUND', e.message ?? 'not found', {});
    return new FaultlineError('INVALID_INPUT', e.message ?? 'invalid input', {
      ...(e.code ? { fastifyCode: e.code } : {}),
    });
  }
  log.error({ err }, 'admin API: unexpected error');
  return new FaultlineError('INTERNAL', 'internal error; see the proxy log', {});
}

export function errorBody(err: unknown, log: Logger): { status: number; body: ErrorBody } {
  const fe = toFaultlineError(err, log);
  return { status: fe.statusCode, body: fe.toBody() };
}
