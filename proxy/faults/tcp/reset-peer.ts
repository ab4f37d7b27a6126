import { z } from 'zod';
import type { TcpFault, TcpFaultSession, TcpLink } from '../../tcp/tcp-fault.ts';
import type { FaultDefinition } from '../fault-definition.ts';

export const TcpResetPeerParams = z.strictObject({
  /**
   * Time from the first bytes (or FIN) in the fault's direction to the reset, ms. Default 0 (at
   * once).
   */
  timeoutMs: z.number().nonnegative().default(0),
});
export type TcpResetPeerParams = z.infer<typeof TcpResetPeerParams>;

export const tcpResetPeerFault: FaultDefinition<TcpResetPeerParams, TcpFault> = {
  type: 'reset_peer',
  mode: 'tcp',
  summary:
    'From the first bytes in the direction, lets nothing more through it and timeoutMs later sends the client a real TCP RST (and drops the upstream side).',
  params: TcpResetPeerParams,
  directions: ['upstream', 'downstream'],
  example: { timeoutMs: 0 },
  create({ timeoutMs }) {
    return {
      scope: 'connection',
      open(): TcpFaultSession {
        // As Toxiproxy's reset_peer (toxics/reset_peer.go): the timer starts with the first data in
        // the direction, not when the connection meets the fault, so an idle connection is left
        // alone and, downstream, the request reaches the upstream before the reset. From then on
        // the direction is held (Toxiproxy stops reading it); the reset drops what was held, a
        // revert before the timer lets it through in order.
        let armed = false;
        const arm = (link: TcpLink): void => {
          if (armed) return;
          armed = true;
          link.setTimer(() => link.reset(), timeoutMs);
        };
        return {
          async onChunk(chunk, link) {
            arm(link);
            await link.hold();
            await link.forward(chunk.data);
          },
          async onEnd(link) {
            arm(link);
            await link.hold();
            await link.end();
          },
        };
      },
    };
  },
};
