import { z } from 'zod';
import type { TcpFault } from '../../tcp/tcp-fault.ts';
import type { FaultDefinition } from '../fault-definition.ts';

export const TcpRefuseParams = z.strictObject({});
export type TcpRefuseParams = z.infer<typeof TcpRefuseParams>;

const behaviour: TcpFault = { scope: 'listener', refusesConnections: true };

export const tcpRefuseFault: FaultDefinition<TcpRefuseParams, TcpFault> = {
  type: 'refuse',
  mode: 'tcp',
  summary:
    'Closes the listening socket: new connects get ECONNREFUSED, open connections stay. Ignores percent.',
  params: TcpRefuseParams,
  // Proxy-wide: either direction means the same.
  directions: ['upstream', 'downstream'],
  example: {},
  create: () => behaviour,
};
