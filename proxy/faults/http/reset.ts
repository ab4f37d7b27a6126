import { z } from 'zod';
import type { HttpFault } from '../../http/http-fault.ts';
import type { FaultDefinition } from '../fault-definition.ts';

export const ResetParams = z.strictObject({
  /** Wait this long before resetting, ms: from the request's arrival (upstream) or the response head (downstream). Default 0. */
  afterMs: z.number().nonnegative().default(0),
});
export type ResetParams = z.infer<typeof ResetParams>;

export const resetFault: FaultDefinition<ResetParams, HttpFault> = {
  type: 'reset',
  mode: 'http',
  summary: 'Resets the client connection (TCP RST) instead of answering.',
  params: ResetParams,
  directions: ['upstream', 'downstream'],
  example: { afterMs: 0 },
  create(params): HttpFault {
    return {
      async onRequest(ex) {
        if (params.afterMs > 0) await ex.waitUntil(ex.startedAt + params.afterMs);
        ex.reset();
        return 'handled' as const;
      },
      async onResponse(ex, head) {
        if (params.afterMs > 0) await ex.waitUntil(head.receivedAt + params.afterMs);
        ex.reset();
        return 'handled' as const;
      },
    };
  },
};
