import { z } from 'zod';
import type { HttpExchangeView, HttpFault } from '../../http/http-fault.ts';
import type { FaultDefinition } from '../fault-definition.ts';

export const TimeoutParams = z.strictObject({
  /**
   * Close the client's connection after this long without an answer, ms. 0 = hold until the
   * client gives up or the fault is removed. Default 0.
   */
  timeoutMs: z.number().nonnegative().default(0),
});
export type TimeoutParams = z.infer<typeof TimeoutParams>;

export const timeoutFault: FaultDefinition<TimeoutParams, HttpFault> = {
  type: 'timeout',
  mode: 'http',
  summary:
    'Never answers; closes the connection after timeoutMs (0 = when the client gives up or the fault goes).',
  params: TimeoutParams,
  directions: ['upstream', 'downstream'],
  example: { timeoutMs: 500 },
  create(params): HttpFault {
    const act = async (ex: HttpExchangeView) => {
      await ex.hold(params.timeoutMs);
      return 'handled' as const;
    };
    return { onRequest: act, onResponse: act };
  },
};
