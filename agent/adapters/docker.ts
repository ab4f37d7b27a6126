import Docker from 'dockerode';
import type { AgentTarget } from '../../protocol/agent-wire.ts';
import { FaultlineError } from '../../protocol/errors.ts';
import { type ContainerSelect, parseLabelSelector, seedOf, selectIds } from './docker-select.ts';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

/** Options of {@link DockerAdapter}. */
export interface DockerAdapterOptions {
  /**
   * Unix socket of the Docker Engine API. Default: the path of a `unix://` DOCKER_HOST, else
   * /var/run/docker.sock.
   */
  socketPath?: string;
}

/** A container a docker fault acts on. */
export interface ContainerRef {
  id: string;
  /** Without the leading `/`. */
  name: string;
}

const UNREACHABLE = new Set(['ENOENT', 'ECONNREFUSED', 'EACCES', 'ECONNRESET', 'EPIPE']);

/** The engine's HTTP status of a failed call (404 no such container, 304 already in that state). */
export function dockerStatus(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown })?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

function defaultSocket(): string {
  const host = process.env.DOCKER_HOST;
  return host?.startsWith('unix://') ? host.slice('unix://'.length) : DEFAULT_DOCKER_SOCKET;
}

/**
 * The agent's one Docker Engine client, built once and passed to faults in their context. Creating
 * it connects to nothing: an agent on a host without Docker starts and runs its other faults, and
 * only a docker fault fails, with FAULT_APPLY_FAILED naming the socket.
 */
export class DockerAdapter {
  readonly socketPath: string;
  private client: Docker | undefined;

  constructor(opts: DockerAdapterOptions = {}) {
    this.socketPath = opts.socketPath ?? defaultSocket();
  }

  /**
   * Runs one engine call. An engine that does not answer becomes FAULT_APPLY_FAILED naming the
   * socket; the engine's own errors pass through with their `statusCode`.
   */
  async call<T>(what: string, op: (api: Docker) => Promise<T>): Promise<T> {
    this.client ??= new Docker({ socketPath: this.socketPath });
    try {
      return await op(this.client);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== undefined && UNREACHABLE.has(code)) {
        throw new FaultlineError(
          'FAULT_APPLY_FAILED',
          `no Docker engine answers at ${this.socketPath} (${code}) for ${what}; start one (scripts/start-dockerd.sh) or set DOCKER_HOST=unix://PATH`,
          { socketPath: this.socketPath, code },
          { cause: err },
        );
      }
      throw err;
    }
  }

  /**
   * Runs `op` on one container through {@link call}. The engine's 304 (already started, already
   * stopped) is success: faults ask for a state, and the container is in it.
   */
  async onContainer(id: string, what: string, op: (c: Docker.Container) => Promise<unknown>): Promise<void> {
    try {
      await this.call(`${what} ${id}`, (api) => op(api.getContainer(id)));
    } catch (err) {
      if (dockerStatus(err) !== 304) throw err;
    }
  }

  /** The engine's inspect of a container, or undefined when there is no such container. */
  async inspect(nameOrId: string): Promise<Docker.ContainerInspectInfo | undefined> {
    try {
      return await this.call(`inspect ${nameOrId}`, (api) => api.getContainer(nameOrId).inspect());
    } catch (err) {
      if (dockerStatus(err) === 404) return undefined;
      throw err;
    }
  }

  /**
   * Waits until a container is not running (or is gone), checking every 100 ms for at most
   * `timeoutMs`; true when it is still running at the end.
   */
  async waitNotRunning(id: string, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const info = await this.inspect(id);
      if (!info?.State.Running) return false;
      if (performance.now() >= deadline) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** A network's id and name, or undefined when there is no such network. */
  async network(nameOrId: string): Promise<{ id: string; name: string } | undefined> {
    try {
      const info = await this.call(`inspect network ${nameOrId}`, (api) =>
        api.getNetwork(nameOrId).inspect(),
      );
      return { id: info.Id as string, name: info.Name as string };
    } catch (err) {
      if (dockerStatus(err) === 404) return undefined;
      throw err;
    }
  }

  /**
   * The host pid of a running container's init process (to enter its network namespace or find
   * its cgroup). FAULT_APPLY_FAILED when there is no such container or it is not running.
   */
  async containerPid(nameOrId: string): Promise<number> {
    const info = await this.inspect(nameOrId);
    if (!info) {
      throw new FaultlineError('FAULT_APPLY_FAILED', `no container ${nameOrId}`, { container: nameOrId });
    }
    if (!info.State.Running || !info.State.Pid) {
      throw new FaultlineError(
        'FAULT_APPLY_FAILED',
        `container ${nameOrId} is not running (${info.State.Status})`,
        { container: nameOrId, status: info.State.Status },
      );
    }
    return info.State.Pid;
  }

  /** Every container (running or not) carrying all of `labels`. */
  async listByLabels(labels: Record<string, string>): Promise<ContainerRef[]> {
    const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
    const list = await this.call('list containers', (api) => api.listContainers({ all: true, filters }));
    return list.map((c) => ({ id: c.Id, name: (c.Names[0] ?? c.Id).replace(/^\//, '') }));
  }

  /**
   * The containers a docker fault acts on: `container:NAME_OR_ID` is one; `containers:k=v,...` is
   * every container with those labels, narrowed by `select` (seeded; default seed from `faultId`).
   * None → FAULT_APPLY_FAILED with the selector in the message.
   */
  async resolve(
    target: AgentTarget,
    select: ContainerSelect | undefined,
    faultId: string,
  ): Promise<ContainerRef[]> {
    const [kind, ...rest] = target.split(':');
    const selector = rest.join(':');
    if (kind === 'container') {
      const info = await this.inspect(selector);
      if (!info) throw new FaultlineError('FAULT_APPLY_FAILED', `no container ${selector}`, { target });
      return [{ id: info.Id, name: info.Name.replace(/^\//, '') }];
    }
    if (kind !== 'containers') {
      throw new FaultlineError(
        'INVALID_INPUT',
        `docker faults act on container: or containers: targets, not ${target}`,
        {
          target,
        },
      );
    }
    const all = await this.listByLabels(parseLabelSelector(selector));
    if (all.length === 0) {
      throw new FaultlineError('FAULT_APPLY_FAILED', `no container carries the labels ${selector}`, {
        target,
      });
    }
    const chosen = new Set(
      selectIds(
        all.map((c) => c.id),
        select,
        select?.seed ?? seedOf(faultId),
      ),
    );
    return all.filter((c) => chosen.has(c.id)).sort((a, b) => a.id.localeCompare(b.id));
  }
}
