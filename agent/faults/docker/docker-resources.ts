import { z } from 'zod';
import { ContainerSelect } from '../../adapters/docker-select.ts';
import { dockerFault } from './docker-fault.ts';

export const DockerResourcesParams = z
  .strictObject({
    /** Memory limit, MiB (the engine's minimum is 6). Swap is limited to the same: no swap beyond it. */
    memoryMb: z.number().min(6).max(16_777_216).optional(),
    /** CPU limit in cores, fractional (0.5 = half of one core's time per CFS period). */
    cpus: z.number().min(0.01).max(1024).optional(),
    select: ContainerSelect.optional(),
  })
  .refine((p) => p.memoryMb !== undefined || p.cpus !== undefined, {
    message: 'give memoryMb, cpus or both',
  });
export type DockerResourcesParams = z.infer<typeof DockerResourcesParams>;

const MIB = 1024 * 1024;
/** The kernel's default CFS period, µs: what a CpuPeriod of 0 means. */
const DEFAULT_CFS_PERIOD_US = 100_000;
/**
 * cgroup v1's "no limit" value of memory.limit_in_bytes (PAGE_COUNTER_MAX pages, 4 KiB pages),
 * bytes. Engine 20.10 treats 0 in an update as "leave unchanged" and refuses -1 for memory, so this
 * is the only way back to unlimited; the cgroup file then reads as before the fault.
 */
export const UNLIMITED_MEMORY = 2 ** 63 - 4096; // exact as a double; JSON writes it 9223372036854772000, the kernel rounds down to a page

/** The HostConfig limits before the fault, as the engine reported them, and which ones it changes. */
const Before = z.object({
  Memory: z.number(),
  MemorySwap: z.number(),
  NanoCpus: z.number(),
  CpuQuota: z.number(),
  CpuPeriod: z.number(),
  memory: z.boolean(),
  cpu: z.boolean(),
});
type Before = z.infer<typeof Before>;

/** The update body that sets the fault's limits. */
function limits(params: DockerResourcesParams, before: Before): Record<string, number> {
  const body: Record<string, number> = {};
  if (params.memoryMb !== undefined) {
    // cgroup v1: memory.memsw.limit_in_bytes must be ≥ the memory limit, so swap is set with it.
    body.Memory = Math.round(params.memoryMb * MIB);
    body.MemorySwap = body.Memory;
  }
  if (params.cpus !== undefined) {
    // The engine refuses to change NanoCpus ↔ CpuQuota, and NanoCpus cannot go back to 0: keep
    // the container's own kind of CPU limit.
    if (before.NanoCpus > 0) body.NanoCpus = Math.round(params.cpus * 1e9);
    else body.CpuQuota = Math.round(params.cpus * (before.CpuPeriod || DEFAULT_CFS_PERIOD_US));
  }
  return body;
}

/**
 * Updates the memory and/or CPU limits of containers (`docker update`). Revert restores the
 * HostConfig values recorded before (exactly when they were set; a limit that was 0 comes back
 * as the kernel's "no limit": Memory 9223372036854771712, CpuQuota -1).
 */
export const dockerResources = dockerFault({
  type: 'docker-resources',
  summary: 'updates memory (memoryMb) and/or CPU (cpus) limits of containers; revert restores the old ones',
  params: DockerResourcesParams,
  example: { memoryMb: 64, cpus: 0.5 },
  before: Before,
  record: ({ info }, params) => {
    const h = info.HostConfig;
    return {
      Memory: h.Memory ?? 0,
      MemorySwap: h.MemorySwap ?? 0,
      NanoCpus: h.NanoCpus ?? 0,
      CpuQuota: h.CpuQuota ?? 0,
      CpuPeriod: h.CpuPeriod ?? 0,
      memory: params.memoryMb !== undefined,
      cpu: params.cpus !== undefined,
    };
  },
  act: ({ id }, params, before, docker) =>
    docker.onContainer(id, 'update', (c) => c.update(limits(params, before))),
  async restore({ id, info }, before, docker) {
    const h = info.HostConfig;
    const body: Record<string, number> = {};
    if (before.memory && (h.Memory !== before.Memory || h.MemorySwap !== before.MemorySwap)) {
      body.Memory = before.Memory || UNLIMITED_MEMORY;
      // -1 (unlimited swap) is not passed on to the cgroup by the engine: lift it with the
      // number first, then record -1 below.
      body.MemorySwap = before.MemorySwap > 0 ? before.MemorySwap : UNLIMITED_MEMORY;
    }
    if (before.cpu) {
      if (before.NanoCpus > 0 && h.NanoCpus !== before.NanoCpus) body.NanoCpus = before.NanoCpus;
      if (before.NanoCpus === 0 && h.CpuQuota !== (before.CpuQuota || -1))
        body.CpuQuota = before.CpuQuota || -1;
    }
    if (Object.keys(body).length > 0) await docker.onContainer(id, 'update', (c) => c.update(body));
    if (body.MemorySwap !== undefined && before.MemorySwap === -1) {
      await docker.onContainer(id, 'update', (c) => c.update({ MemorySwap: -1 }));
    }
  },
});
