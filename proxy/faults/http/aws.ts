import { z } from 'zod';
import { AWS_ERROR_STATUS, type AwsErrorCode, awsErrorResponse } from '../../http/aws-error-response.ts';
import { isFormRequest, isSignedAwsRequest, parseAwsRequest } from '../../http/aws-request.ts';
import type { HttpExchangeView, HttpFault } from '../../http/http-fault.ts';
import type { FaultDefinition } from '../fault-definition.ts';

const ERROR_CODES = Object.keys(AWS_ERROR_STATUS) as [AwsErrorCode, ...AwsErrorCode[]];

export const AwsParams = z.strictObject({
  /** Regions from the SigV4 credential scope, e.g. `eu-west-1`. Default: every region. */
  regions: z.array(z.string().min(1)).min(1).optional(),
  /** Signing names, e.g. `dynamodb`, `ec2`, `sqs`, `s3`. Default: every service. */
  services: z.array(z.string().min(1)).min(1).optional(),
  /** Operation names, e.g. `PutItem`. Default: every operation. REST protocols (S3, Lambda) never match a list. */
  operations: z.array(z.string().min(1)).min(1).optional(),
  /** AWS error code to answer with. */
  error: z.enum(ERROR_CODES),
  /** HTTP status. Default: the one AWS uses for `error` (e.g. 400 for ThrottlingException, 503 for ServiceUnavailable). */
  status: z.number().int().min(400).max(599).optional(),
  /** Error message. Default: `Injected by Faultline: <error>`. */
  message: z.string().optional(),
});
export type AwsParams = z.infer<typeof AwsParams>;

export const awsFault: FaultDefinition<AwsParams, HttpFault> = {
  type: 'aws',
  mode: 'http',
  summary:
    "Answers matching AWS API calls (by region, service, operation) with an AWS error in the call's own protocol.",
  params: AwsParams,
  directions: ['upstream', 'downstream'],
  example: { services: ['dynamodb'], operations: ['PutItem'], error: 'ThrottlingException' },
  create(params): HttpFault {
    const regions = params.regions && new Set(params.regions);
    const services = params.services && new Set(params.services.map((s) => s.toLowerCase()));
    const operations = params.operations && new Set(params.operations);
    const status = params.status ?? AWS_ERROR_STATUS[params.error];
    const message = params.message ?? `Injected by Faultline: ${params.error}`;
    const act = (ex: HttpExchangeView) => {
      const info = parseAwsRequest({ headers: ex.req.headers, query: ex.query, body: ex.body });
      if (!info) return 'continue' as const;
      ex.respond(awsErrorResponse({ ...info, code: params.error, status, message }));
      return 'handled' as const;
    };
    return {
      // Only query-protocol calls (EC2, STS, ...) carry the operation in the body, and only an
      // operation list needs it.
      needsBody: (req) =>
        operations !== undefined &&
        isFormRequest(req.headers) &&
        isSignedAwsRequest(req.headers, req.url ?? ''),
      accepts(ex) {
        const info = parseAwsRequest({ headers: ex.req.headers, query: ex.query, body: ex.body });
        if (!info) return false;
        if (regions && !regions.has(info.region)) return false;
        if (services && !services.has(info.service)) return false;
        return !operations || (info.operation !== undefined && operations.has(info.operation));
      },
      onRequest: act,
      onResponse: act,
    };
  },
};
