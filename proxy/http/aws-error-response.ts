import { randomUUID } from 'node:crypto';
import type { AwsProtocol } from './aws-request.ts';
import type { FaultResponse } from './http-fault.ts';

/**
 * AWS error codes the `aws` fault can answer with, and the HTTP status AWS uses for each.
 * Throttling codes and 500/502/503/504 are the ones SDK retry strategies retry.
 */
export const AWS_ERROR_STATUS = {
  ThrottlingException: 400,
  Throttling: 400,
  ThrottledException: 400,
  RequestThrottled: 400,
  RequestThrottledException: 400,
  RequestLimitExceeded: 503,
  ProvisionedThroughputExceededException: 400,
  TooManyRequestsException: 429,
  LimitExceededException: 400,
  SlowDown: 503,
  ServiceUnavailable: 503,
  ServiceUnavailableException: 503,
  InternalError: 500,
  InternalFailure: 500,
  InternalServerError: 500,
  // S3's code ("socket not read from or written to within the timeout") comes with 400.
  RequestTimeout: 400,
  RequestTimeoutException: 408,
  AccessDeniedException: 400,
  ExpiredTokenException: 400,
  ValidationException: 400,
} as const;
export type AwsErrorCode = keyof typeof AWS_ERROR_STATUS;

export interface AwsErrorInput {
  protocol: AwsProtocol;
  /** Signing name, e.g. `dynamodb`. */
  service: string;
  /** `X-Amz-Target` prefix (JSON protocols), e.g. `DynamoDB_20120810`. */
  targetPrefix?: string | undefined;
  code: AwsErrorCode | string;
  status: number;
  message: string;
  /** Generated when absent. */
  requestId?: string;
}

function xmlEscape(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** `DynamoDB_20120810` → `com.amazonaws.dynamodb.v20120810`, the shape real DynamoDB uses in `__type`. */
function jsonNamespace(service: string, targetPrefix: string | undefined): string {
  const m = targetPrefix ? /^([A-Za-z]+)_(\d{8})$/.exec(targetPrefix) : null;
  return m ? `com.amazonaws.${m[1]!.toLowerCase()}.v${m[2]}` : `com.amazonaws.${service}`;
}

/**
 * The error response AWS sends for `code` in the request's protocol, so an unmodified AWS SDK
 * classifies it (error name, throttling, retryable) exactly as it would a real one.
 */
export function awsErrorResponse(input: AwsErrorInput): FaultResponse {
  const requestId = input.requestId ?? randomUUID();
  const { code, message, status } = input;
  const faultSide = status >= 500 ? 'Receiver' : 'Sender';
  switch (input.protocol) {
    case 'awsJson1_0':
    case 'awsJson1_1': {
      const headers: Record<string, string> = {
        'content-type':
          input.protocol === 'awsJson1_0' ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1',
        'x-amzn-errortype': code,
        'x-amzn-requestid': requestId,
      };
      // SQS's JSON protocol is "awsQueryCompatible": the SDK reads the query-era code from here.
      if (input.service === 'sqs') headers['x-amzn-query-error'] = `${code};${faultSide}`;
      const body = JSON.stringify({
        __type: `${jsonNamespace(input.service, input.targetPrefix)}#${code}`,
        message,
      });
      return { status, headers, body };
    }
    case 'awsQuery':
      return {
        status,
        headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
        body:
          `<ErrorResponse xmlns="https://${input.service}.amazonaws.com/doc/"><Error><Type>${faultSide}</Type>` +
          `<Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message></Error>` +
          `<RequestId>${requestId}</RequestId></ErrorResponse>`,
      };
    case 'ec2Query':
      return {
        status,
        headers: { 'content-type': 'text/xml;charset=UTF-8' },
        body:
          `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${xmlEscape(code)}</Code>` +
          `<Message>${xmlEscape(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
      };
    case 'restJson1':
      return {
        status,
        headers: {
          'content-type': 'application/json',
          'x-amzn-errortype': code,
          'x-amzn-requestid': requestId,
        },
        body: JSON.stringify({ message }),
      };
    case 'restXml':
      return {
        status,
        headers: { 'content-type': 'application/xml', 'x-amz-request-id': requestId },
        body:
          input.service === 's3'
            ? `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message>` +
              `<RequestId>${requestId}</RequestId></Error>`
            : `<?xml version="1.0"?>\n<ErrorResponse><Error><Type>${faultSide}</Type><Code>${xmlEscape(code)}</Code>` +
              `<Message>${xmlEscape(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      };
  }
}
