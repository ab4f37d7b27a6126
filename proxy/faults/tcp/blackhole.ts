import { z } from 'zod';
import type { TcpFault, TcpFaultSession } from '../../tcp/tcp-fault.ts';
import type { FaultDefinition } from '../fault-definition.ts';

export const TcpBlackholeParams = z.strictObject({});
export type TcpBlackholeParams = z.infer<typeof TcpBlackholeParams>;

const session: TcpFaultSession = {
  // Read and dropped: the peer hears nothing.
  onChunk() {},
  // Nor does it hear the close, until the fault goes away.
  async onEnd(link) {
    await link.hold();
    await link.end();
  },
};

export const tcpBlackholeFault: FaultDefinition<TcpBlackholeParams, TcpFault> = {
  type: 'blackhole',
  mode: 'tcp',
  summary: 'Reads and drops every byte in the direction; the peer hears nothing, not even the close.',
  params: TcpBlackholeParams,
  directions: ['upstream', 'downstream'],
  example: {},
  create() {
    return { scope: 'connection', open: () => session };
  },
};
