import { z } from 'zod';
import type { TcpFault, TcpFaultSession } from '../../tcp/tcp-fault.ts';
import type { FaultDefinition } from '../fault-definition.ts';

export const TcpSlowCloseParams = z.strictObject({
  /** How long the end of the stream (FIN) is held back once the source ended, ms. */
  delayMs: z.number().nonnegative(),
});
export type TcpSlowCloseParams = z.infer<typeof TcpSlowCloseParams>;

export const tcpSlowCloseFault: FaultDefinition<TcpSlowCloseParams, TcpFault> = {
  type: 'slow_close',
  mode: 'tcp',
  summary: 'Holds back the close (FIN) in the direction by delayMs; data passes unchanged.',
  params: TcpSlowCloseParams,
  directions: ['upstream', 'downstream'],
  example: { delayMs: 300 },
  create({ delayMs }) {
    const session: TcpFaultSession = {
      onChunk: (chunk, link) => link.forward(chunk.data),
      async onEnd(link) {
        await link.sleep(delayMs);
        await link.end();
      },
    };
    return { scope: 'connection', open: () => session };
  },
};
