import { z } from 'zod';
import type { TcpFault, TcpFaultSession } from '../../tcp/tcp-fault.ts';
import type { FaultDefinition } from '../fault-definition.ts';

export const TcpResetPeerParams = z.strictObject({
  /** Time from the connection meeting the fault to the reset, ms. Default 0 (at once). */
  timeoutMs: z.number().nonnegative().default(0),
});
export type TcpResetPeerParams = z.infer<typeof TcpResetPeerParams>;

const passThrough: TcpFaultSession = { onChunk: (chunk, link) => link.forward(chunk.data) };

export const tcpResetPeerFault: FaultDefinition<TcpResetPeerParams, TcpFault> = {
  type: 'reset_peer',
  mode: 'tcp',
  summary:
    'Sends the client a real TCP RST (and drops the upstream side) timeoutMs after the connection meets the fault.',
  params: TcpResetPeerParams,
  directions: ['upstream', 'downstream'],
  example: { timeoutMs: 0 },
  create({ timeoutMs }) {
    return {
      scope: 'connection',
      open(link) {
        link.setTimer(() => link.reset(), timeoutMs);
        return passThrough;
      },
    };
  },
};
