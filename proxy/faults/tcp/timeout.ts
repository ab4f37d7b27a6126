import { z } from 'zod';
import type { TcpFault, TcpFaultSession } from '../../tcp/tcp-fault.ts';
import type { FaultDefinition } from '../fault-definition.ts';

export const TcpTimeoutParams = z.strictObject({
  /**
   * Time from the connection meeting the fault to closing it, ms. 0 = never close: hold the data
   * until the fault is removed.
   */
  timeoutMs: z.number().nonnegative(),
});
export type TcpTimeoutParams = z.infer<typeof TcpTimeoutParams>;

export const tcpTimeoutFault: FaultDefinition<TcpTimeoutParams, TcpFault> = {
  type: 'timeout',
  mode: 'tcp',
  summary:
    'Stops all data in the direction and closes the connection after timeoutMs (0 = hold until removed).',
  params: TcpTimeoutParams,
  directions: ['upstream', 'downstream'],
  example: { timeoutMs: 300 },
  create({ timeoutMs }) {
    // Held bytes (and the FIN) wait here; once the fault is removed they flow on in order. The
    // direction's queue bound pauses the source meanwhile, so the peer sees a stalled stream.
    const session: TcpFaultSession = {
      async onChunk(chunk, link) {
        await link.hold();
        await link.forward(chunk.data);
      },
      async onEnd(link) {
        await link.hold();
        await link.end();
      },
    };
    return {
      scope: 'connection',
      open(link) {
        if (timeoutMs > 0) link.setTimer(() => link.close('timeout'), timeoutMs);
        return session;
      },
    };
  },
};
