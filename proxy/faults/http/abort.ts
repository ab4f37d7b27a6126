import { z } from 'zod';
import type { FaultResponse, HttpExchangeView, HttpFault } from '../../http/http-fault.ts';
import type { FaultDefinition } from '../fault-definition.ts';

export const AbortParams = z.strictObject({
  /** HTTP status to answer with. */
  status: z.number().int().min(100).max(599),
  /** Response body. Default empty. */
  body: z.string().optional(),
  /** Extra response headers. Names must be HTTP tokens; values must not contain CR or LF. */
  headers: z
    .record(
      z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'expected an HTTP header name'),
      z.string().regex(/^[^\r\n]*$/, 'header values cannot contain CR or LF'),
    )
    .optional(),
  /** `content-type` of the body. Default `text/plain; charset=utf-8` when there is a body. */
  contentType: z
    .string()
    .regex(/^[^\r\n]*$/)
    .optional(),
});
export type AbortParams = z.infer<typeof AbortParams>;

export const abortFault: FaultDefinition<AbortParams, HttpFault> = {
  type: 'abort',
  mode: 'http',
  summary:
    'Answers a fixed status without contacting the upstream (upstream) or in place of its response (downstream).',
  params: AbortParams,
  directions: ['upstream', 'downstream'],
  example: { status: 503, body: 'injected by faultline' },
  create(params): HttpFault {
    const headers: Record<string, string> = { ...params.headers };
    const contentType = params.contentType ?? (params.body ? 'text/plain; charset=utf-8' : undefined);
    if (contentType) headers['content-type'] = contentType;
    const response: FaultResponse = { status: params.status, headers, body: params.body ?? '' };
    const act = (ex: HttpExchangeView) => {
      ex.respond(response);
      return 'handled' as const;
    };
    return { onRequest: act, onResponse: act };
  },
};
