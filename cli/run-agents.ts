import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { type RunningAgent, startAgent } from '../agent/agent.ts';
import { AgentHub } from '../controller/dispatch/agent-hub.ts';
import { AgentId } from '../protocol/agent-wire.ts';
import { FaultlineError } from '../protocol/errors.ts';
import { parseHostPort } from '../protocol/host-port.ts';
import { HostPort } from '../protocol/proxy.ts';

/**
 * What a standalone `faultline run` starts for an experiment with agent targets: the hub (on
 * 127.0.0.1:0, or `--listen`) and, unless told not to, an agent in this process that dials it
 * over loopback WebSocket like any other agent (controller/ never imports agent/).
 */

/** Labels of the in-process agent when `--agent-labels` is not given; the shipped examples select them. */
export const DEFAULT_LOCAL_AGENT_LABELS: Readonly<Record<string, string>> = { role: 'local' };

/** Options of {@link startRunAgents}. */
export interface RunAgentsOptions {
  /** `HOST:PORT` the hub listens on. Default `127.0.0.1:0` (a free loopback port). */
  listen?: string | undefined;
  /** Token agents present. Required for a non-loopback `listen`; random otherwise. */
  token?: string | undefined;
  /** Start the in-process agent. Default true. */
  localAgent?: boolean;
  /** Labels of the in-process agent. Default {@link DEFAULT_LOCAL_AGENT_LABELS}. */
  labels?: Record<string, string> | undefined;
  /** Id of the in-process agent. Default `local-<host name>`. */
  agentId?: string | undefined;
  /** Ledger and control socket of the in-process agent. Default `.faultline/agent-<id>`. */
  stateDir?: string | undefined;
  /** Lines worth showing (where the hub listens, agent notes). */
  log: (line: string) => void;
}

export interface RunAgents {
  hub: AgentHub;
  agent: RunningAgent | null;
  /** Reverts everything the in-process agent still holds, then closes it and the hub. */
  close(): Promise<void>;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** `k=v,k2=v2` → labels. */
export function parseLabelList(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new FaultlineError('INVALID_INPUT', `label "${pair}" is not k=v`);
    labels[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return labels;
}

/** Checks the options before anything starts; throws INVALID_INPUT with the reason. */
export function checkRunAgentsOptions(opts: Pick<RunAgentsOptions, 'listen' | 'token' | 'agentId'>): void {
  if (opts.listen !== undefined) {
    if (!HostPort.safeParse(opts.listen).success) {
      throw new FaultlineError('INVALID_INPUT', `--listen: expected HOST:PORT, got "${opts.listen}"`);
    }
    const { host } = parseHostPort(opts.listen);
    if (!isLoopback(host) && !opts.token) {
      throw new FaultlineError(
        'INVALID_INPUT',
        `--listen ${opts.listen} is not a loopback address: give --agent-token (or FAULTLINE_AGENT_TOKEN) so only your agents can join`,
      );
    }
  }
  if (opts.agentId !== undefined && !AgentId.safeParse(opts.agentId).success) {
    throw new FaultlineError(
      'INVALID_INPUT',
      `--agent-id: expected 1-64 of A-Z a-z 0-9 _ . -, got "${opts.agentId}"`,
    );
  }
}

export async function startRunAgents(opts: RunAgentsOptions): Promise<RunAgents> {
  checkRunAgentsOptions(opts);
  const { host, port } = parseHostPort(opts.listen ?? '127.0.0.1:0');
  const token = opts.token || randomBytes(16).toString('hex');
  const hub = await AgentHub.start({ token, host, port });
  if (opts.listen !== undefined) {
    opts.log(
      `agent hub listening on ${hub.url}${opts.token ? '' : ` (token ${token}: loopback only)`}; start agents with: faultline agent --controller ${hub.url} --token ...`,
    );
  }
  let agent: RunningAgent | null = null;
  if (opts.localAgent !== false) {
    const agentId =
      opts.agentId ??
      `local-${hostname()
        .replace(/[^A-Za-z0-9_.-]/g, '-')
        .slice(0, 58)}`;
    try {
      agent = await startAgent({
        controller: hub.url,
        token,
        agentId,
        labels: opts.labels ?? { ...DEFAULT_LOCAL_AGENT_LABELS },
        stateDir: opts.stateDir,
        // Replay and connection notes only; fault progress is the run's to report.
        log: (line) => {
          if (!line.startsWith('connected') && !line.startsWith('disconnected'))
            opts.log(`agent ${agentId}: ${line}`);
        },
      });
    } catch (err) {
      await hub.close();
      throw err;
    }
  }
  let closing: Promise<void> | undefined;
  return {
    hub,
    agent,
    close: () => {
      closing ??= (async () => {
        try {
          await agent?.close();
        } finally {
          await hub.close();
        }
      })();
      return closing;
    },
  };
}
