import { z } from 'zod';
import type { TcpFault } from '../../tcp/tcp-fault.ts';
import type { FaultDefinition } from '../fault-definition.ts';

export const TcpLimitDataParams = z.strictObject({
  /** Bytes let through in the direction (counted from when the connection met the fault) before it closes. */
  bytes: z.number().int().nonnegative(),
});
export type TcpLimitDataParams = z.infer<typeof TcpLimitDataParams>;

export const tcpLimitDataFault: FaultDefinition<TcpLimitDataParams, TcpFault> = {
  type: 'limit_data',
  mode: 'tcp',
  summary: 'Lets `bytes` bytes through in the direction, then closes the connection.',
  params: TcpLimitDataParams,
  directions: ['upstream', 'downstream'],
  example: { bytes: 100 },
  create({ bytes }) {
    return {
      scope: 'connection',
      open() {
        let passed = 0;
        return {
          onChunk(chunk, link) {
            const room = bytes - passed;
            if (chunk.data.length < room) {
              passed += chunk.data.length;
              return link.forward(chunk.data);
            }
            passed = bytes;
            const closeNow = () => link.close();
            if (room <= 0) return closeNow();
            return link.forward(chunk.data.subarray(0, room)).then(closeNow);
          },
        };
      },
    };
  },
};
