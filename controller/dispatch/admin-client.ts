import { Agent, request } from 'undici';
import { ERROR_CODES, type ErrorCode, FaultlineError } from '../../protocol/errors.ts';

/** Options for {@link AdminClient}. */
export interface AdminClientOptions {
  /** Admin base URL, e.g. `http://127.0.0.1:8474`. */
  baseUrl: string;
  /** Per-request timeout in ms. Default 5000. */
  timeoutMs?: number;
}

export interface AdminResponse<T> {
  status: number;
  body: T;
}

/** Thin JSON client for the proxy admin API over one keep-alive connection pool. */
export class AdminClient {
  readonly baseUrl: string;
  private readonly dispatcher: Agent;
  private readonly timeoutMs: number;

  constructor(opts: AdminClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 5_000;
    this.dispatcher = new Agent({ keepAliveTimeout: 10_000, connections: 8 });
  }

  url(path: string): string {
    return `${this.baseUrl}${path}`;
  }

  /** Sends a request; non-2xx answers with a Faultline error body are thrown as that error. */
  async send<T>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<AdminResponse<T>> {
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(this.url(path), {
        method,
        dispatcher: this.dispatcher,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        signal,
        ...(body === undefined
          ? {}
          : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
    } catch (err) {
      throw new FaultlineError(
        'UNREACHABLE',
        `proxy admin ${this.baseUrl} did not answer ${method} ${path}: ${(err as Error).message}`,
        {
          url: this.url(path),
        },
        { cause: err },
      );
    }
    const text = await res.body.text();
    const parsed: unknown = text ? safeJson(text) : undefined;
    if (res.statusCode >= 200 && res.statusCode < 300) return { status: res.statusCode, body: parsed as T };
    const errBody = parsed as
      | { code?: string; message?: string; details?: Record<string, unknown> }
      | undefined;
    const code =
      errBody?.code && errBody.code in ERROR_CODES ? (errBody.code as ErrorCode) : 'UPSTREAM_UNAVAILABLE';
    throw new FaultlineError(
      code,
      errBody?.message ?? `proxy admin answered ${res.statusCode} to ${method} ${path}`,
      {
        status: res.statusCode,
        url: this.url(path),
        ...(errBody?.details ?? {}),
      },
    );
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}
