import { z } from 'zod';
import { FaultlineError } from '../../../protocol/errors.ts';
import { dockerStatus } from '../../adapters/docker.ts';
import { ContainerSelect } from '../../adapters/docker-select.ts';
import { dockerFault } from './docker-fault.ts';

export const DockerNetworkDisconnectParams = z.strictObject({
  /** Network name or id the containers are disconnected from. */
  network: z.string().min(1),
  select: ContainerSelect.optional(),
});
export type DockerNetworkDisconnectParams = z.infer<typeof DockerNetworkDisconnectParams>;

/** The endpoint as the engine reported it before: what reconnecting needs to give it back. */
const Before = z.object({
  networkId: z.string(),
  networkName: z.string(),
  /** User aliases (the engine's own short-id alias is left out: it adds it again itself). */
  aliases: z.array(z.string()),
  /** Static addresses the endpoint was created with, when it had any. */
  ipamConfig: z.record(z.string(), z.unknown()).nullable(),
  links: z.array(z.string()).nullable(),
});
type Before = z.infer<typeof Before>;

/**
 * Disconnects containers from one network; revert connects them again with the same aliases,
 * links and static IPAM config (a dynamic address may come back different).
 */
export const dockerNetworkDisconnect = dockerFault({
  type: 'docker-network-disconnect',
  summary: 'disconnects containers from network; revert reconnects with the same aliases and IPAM config',
  params: DockerNetworkDisconnectParams,
  example: { network: 'faultline-example' },
  before: Before,
  async record({ id, info }, params, docker): Promise<Before | { skip: string }> {
    const net = await docker.network(params.network);
    if (!net)
      throw new FaultlineError('FAULT_APPLY_FAILED', `no network ${params.network}`, {
        network: params.network,
      });
    const endpoint = Object.entries(info.NetworkSettings.Networks ?? {}).find(
      ([name, e]) => name === net.name || e.NetworkID === net.id,
    )?.[1];
    if (!endpoint) return { skip: `not connected to ${net.name}` };
    const ipam = endpoint.IPAMConfig as Record<string, unknown> | null | undefined;
    return {
      networkId: net.id,
      networkName: net.name,
      aliases: (endpoint.Aliases ?? []).filter((a: string) => !id.startsWith(a)),
      ipamConfig: ipam && Object.keys(ipam).length > 0 ? ipam : null,
      links: endpoint.Links ?? null,
    };
  },
  act: ({ id }, _params, before, docker) =>
    docker.call(`disconnect ${id} from ${before.networkName}`, (api) =>
      api.getNetwork(before.networkId).disconnect({ Container: id }),
    ),
  async restore({ id, info }, before, docker) {
    const connected = Object.values(info.NetworkSettings.Networks ?? {}).some(
      (e) => e.NetworkID === before.networkId,
    );
    if (connected) return;
    try {
      await docker.call(`connect ${id} to ${before.networkName}`, (api) =>
        api.getNetwork(before.networkId).connect({
          Container: id,
          EndpointConfig: {
            Aliases: before.aliases,
            ...(before.ipamConfig ? { IPAMConfig: before.ipamConfig } : {}),
            ...(before.links ? { Links: before.links } : {}),
          },
        }),
      );
    } catch (err) {
      // The network itself was removed since: there is nothing to connect to, nothing of ours left.
      if (dockerStatus(err) === 404 && !(await docker.network(before.networkId))) return;
      throw err;
    }
  },
});
