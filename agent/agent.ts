import type { Server } from 'node:net';
import { hostname } from 'node:os';
import { z } from 'zod';
import type { AgentMode, AgentTarget, HubMessage } from '../protocol/agent-wire.ts';
import { FaultlineError, isFaultlineError } from '../protocol/errors.ts';
import { DockerAdapter } from './adapters/docker.ts';
import { type ControlStatus, controlSocketPath, listenControl } from './control-socket.ts';
import { ControllerLink } from './controller-link.ts';
import { FaultRuntime } from './fault-runtime.ts';
import type { AgentAdapters, AnyAgentFault } from './faults/agent-fault.ts';
import { agentFaultRegistry } from './faults/registry.ts';
import { Ledger } from './ledger.ts';

/** Options of {@link startAgent}. */
export interface AgentOptions {
  /** `ws://HOST:PORT` of the hub. Without it the agent runs local-only (control socket, no controller). */
  controller?: string;
  /** Shared secret the hub checks. */
  token: string;
  /** Default: this machine's host name. Also names the default state dir. */
  agentId?: string;
  labels?: Record<string, string>;
  /** Default `host`. A sidecar is pinned to `target` and uses it when asked to act on `host`. */
  mode?: AgentMode;
  target?: AgentTarget;
  /** Ledger and control socket live here. Default `.faultline/agent-<agentId>`. */
  stateDir?: string;
  /** Fault types offered. Default: every agent fault. */
  registry?: ReadonlyMap<string, AnyAgentFault>;
  /**
   * Clients of outside systems. Default: a Docker client on DOCKER_HOST or /var/run/docker.sock,
   * which connects on a docker fault's first call, so a host without Docker still runs the rest.
   */
  adapters?: Partial<AgentAdapters>;
  /** Reconnect backoff bounds, ms. Defaults 100 and 5000. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Called with one-line progress notes (connected, expired, replay figures). */
  log?: (line: string) => void;
}

export interface RunningAgent {
  agentId: string;
  stateDir: string;
  runtime: FaultRuntime;
  /** What replay found at start. */
  replayed: { reverted: number; swept: number; failed: string[] };
  status(): ControlStatus;
  halt(): Promise<ControlStatus>;
  resume(): ControlStatus;
  /** Reverts everything, then closes the link, the control socket and the ledger. */
  close(): Promise<void>;
}

function ackError(err: unknown) {
  if (isFaultlineError(err)) return { code: err.code, message: err.message };
  return { code: 'INTERNAL' as const, message: (err as Error).message };
}

/** Starts an agent: replays its ledger, opens its control socket, and dials the hub when given one. */
export async function startAgent(opts: AgentOptions): Promise<RunningAgent> {
  const agentId =
    opts.agentId ??
    hostname()
      .replace(/[^A-Za-z0-9_.-]/g, '-')
      .slice(0, 64);
  const stateDir = opts.stateDir ?? `.faultline/agent-${agentId}`;
  const mode = opts.mode ?? 'host';
  if (mode === 'sidecar' && !opts.target) {
    throw new FaultlineError(
      'INVALID_INPUT',
      'a sidecar agent needs --target (pid:N, container:NAME, service:NAME)',
    );
  }
  const registry = opts.registry ?? agentFaultRegistry;
  const log = opts.log ?? (() => {});
  const ledger = new Ledger(stateDir);
  const adapters: AgentAdapters = { docker: opts.adapters?.docker ?? new DockerAdapter() };
  const runtime = new FaultRuntime({ agentId, stateDir, ledger, registry, adapters });
  const replayed = await runtime.replay();
  log(`replay: reverted ${replayed.reverted}, swept ${replayed.swept}, failed ${replayed.failed.length}`);

  let link: ControllerLink | undefined;
  const status = (): ControlStatus => ({
    agentId,
    halted: runtime.isHalted,
    activeFaults: runtime.activeIds(),
    connected: link?.connected ?? false,
  });
  const halt = async () => {
    await runtime.halt();
    log('halted: every fault reverted; new faults refused until resume');
    return status();
  };
  const resume = () => {
    runtime.resume();
    log('resumed');
    return status();
  };

  runtime.on('expired', (faultId) => {
    log(`lease expired: ${faultId} reverted`);
    link?.send({ type: 'expired', faultId });
  });
  runtime.on('reverted', (faultId, reason) => link?.send({ type: 'reverted', faultId, reason }));
  runtime.on('revert-failed', (faultId, err) => log(`revert of ${faultId} failed: ${err.message}`));

  /** A sidecar is scoped to its one target: `host` means that target, and any other is refused. */
  const effectiveTarget = (target: AgentTarget): AgentTarget => {
    if (mode !== 'sidecar' || target === opts.target) return target;
    if (target === 'host') return opts.target!;
    throw new FaultlineError(
      'INVALID_INPUT',
      `this sidecar agent acts on ${opts.target} only, not ${target}`,
      {
        target,
        scope: opts.target,
      },
    );
  };

  const onMessage = (message: HubMessage) => {
    const ack = (requestId: string, work: () => Promise<Record<string, unknown>>) => {
      work().then(
        (fields) => link?.send({ type: 'ack', requestId, ok: true, ...fields }),
        (err) => link?.send({ type: 'ack', requestId, ok: false, error: ackError(err) }),
      );
    };
    switch (message.type) {
      case 'apply':
        return ack(message.requestId, async () => ({
          receipt: await runtime.apply({
            faultId: message.faultId,
            faultType: message.faultType,
            target: effectiveTarget(message.target),
            params: message.params,
            leaseMs: message.leaseMs,
          }),
        }));
      case 'renew':
        return ack(message.requestId, async () => ({
          expiresAt: runtime.renew(message.faultId, message.leaseMs),
        }));
      case 'revert':
        return ack(message.requestId, () => runtime.revert(message.faultId, 'revert'));
      case 'halt':
        return ack(message.requestId, async () => {
          await halt();
          return {};
        });
      case 'resume':
        return ack(message.requestId, async () => {
          resume();
          return {};
        });
      case 'welcome':
        return;
    }
  };

  let control: Server | undefined;
  try {
    control = await listenControl(stateDir, async (command) => {
      if (command === 'halt') return halt();
      if (command === 'resume') return resume();
      return status();
    });
  } catch (err) {
    await runtime.close();
    ledger.close();
    throw new FaultlineError(
      'CONFLICT',
      `control socket ${controlSocketPath(stateDir)}: ${(err as Error).message}`,
    );
  }

  if (opts.controller) {
    const faults = [...registry.values()].map((f) => ({
      type: f.type,
      targets: [...f.targets],
      paramsSchema: z.toJSONSchema(f.params, { io: 'input', unrepresentable: 'any' }) as Record<
        string,
        unknown
      >,
    }));
    link = new ControllerLink({
      url: opts.controller,
      minBackoffMs: opts.minBackoffMs,
      maxBackoffMs: opts.maxBackoffMs,
      hello: () => ({
        type: 'hello',
        token: opts.token,
        agentId,
        labels: opts.labels ?? {},
        mode,
        target: opts.target,
        faults,
        activeFaults: runtime.activeIds(),
        halted: runtime.isHalted,
      }),
      heartbeat: () => ({
        type: 'heartbeat',
        activeFaults: runtime.activeIds().length,
        halted: runtime.isHalted,
      }),
      onMessage,
      onStatus: (connected, detail) => log(`${connected ? 'connected' : 'disconnected'}: ${detail}`),
    });
  }

  let closing: Promise<void> | undefined;
  return {
    agentId,
    stateDir,
    runtime,
    replayed,
    status,
    halt,
    resume,
    close: () => {
      closing ??= (async () => {
        await runtime.close();
        await link?.close();
        await new Promise<void>((r) => (control ? control.close(() => r()) : r()));
        ledger.close();
      })();
      return closing;
    },
  };
}
