import type { IncomingHttpHeaders } from 'node:http';

/** AWS wire protocols, by how they shape errors (Smithy protocol names). */
export const AWS_PROTOCOLS = [
  'awsJson1_0',
  'awsJson1_1',
  'awsQuery',
  'ec2Query',
  'restJson1',
  'restXml',
] as const;
export type AwsProtocol = (typeof AWS_PROTOCOLS)[number];

/** What a request to an AWS API says about itself. */
export interface AwsRequestInfo {
  /** From the SigV4 credential scope, e.g. `eu-west-1`. */
  region: string;
  /** Signing name from the credential scope, lower-case, e.g. `dynamodb`, `ec2`, `sqs`, `s3`. */
  service: string;
  /** `PutItem`, `DescribeInstances`, ...; undefined for REST protocols (not in the request head). */
  operation: string | undefined;
  protocol: AwsProtocol;
  /** `X-Amz-Target` prefix for JSON protocols, e.g. `DynamoDB_20120810`. */
  targetPrefix: string | undefined;
}

export interface AwsRequestParts {
  headers: IncomingHttpHeaders;
  /** Raw query string without the `?`. */
  query: string;
  /** Request body when it was buffered (needed for `Action=` in form-encoded query protocols). */
  body?: Buffer | undefined;
}

/** Services whose REST protocol is XML; every other REST service speaks JSON. */
const REST_XML_SERVICES: ReadonlySet<string> = new Set(['s3', 's3-control', 'route53', 'cloudfront']);

const CREDENTIAL_RE = /Credential=([^,\s]+)/;

function one(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** `AKID/20260101/us-east-1/dynamodb/aws4_request` → region and service. */
function parseScope(credential: string): { region: string; service: string } | undefined {
  const parts = credential.split('/');
  if (parts.length < 5 || parts[parts.length - 1] !== 'aws4_request') return undefined;
  const region = parts[parts.length - 3]!;
  const service = parts[parts.length - 2]!;
  return region && service ? { region, service: service.toLowerCase() } : undefined;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** Value of `name` in a form/query string (`a=1&Action=PutItem`), decoded; undefined when absent. */
export function formValue(form: string, name: string): string | undefined {
  for (const pair of form.split('&')) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (safeDecode(key) === name) return eq < 0 ? '' : safeDecode(pair.slice(eq + 1));
  }
  return undefined;
}

/** True when a form-encoded body could hold the operation (`Action=`) that the head does not show. */
export function isFormRequest(headers: IncomingHttpHeaders): boolean {
  const type = headers['content-type'];
  return type?.toLowerCase().startsWith('application/x-www-form-urlencoded') === true;
}

/** True when the request carries a SigV4 signature (header or presigned query). */
export function isSignedAwsRequest(headers: IncomingHttpHeaders, query: string): boolean {
  return one(headers.authorization)?.startsWith('AWS4-') === true || query.includes('X-Amz-Credential=');
}

/**
 * Reads region, service, operation and protocol of an AWS API request from its SigV4 credential
 * scope (`Authorization` header or `X-Amz-Credential` query), `X-Amz-Target` (JSON protocols) or
 * `Action=` (query protocols; in the query string or a form-encoded body). Undefined when the
 * request is not SigV4-signed.
 */
export function parseAwsRequest(parts: AwsRequestParts): AwsRequestInfo | undefined {
  const { headers, query } = parts;
  let credential = CREDENTIAL_RE.exec(one(headers.authorization) ?? '')?.[1];
  if (!credential && query) credential = formValue(query, 'X-Amz-Credential');
  const scope = credential ? parseScope(credential) : undefined;
  if (!scope) return undefined;
  const target = one(headers['x-amz-target']);
  if (target) {
    const dot = target.lastIndexOf('.');
    const contentType = one(headers['content-type']) ?? '';
    return {
      ...scope,
      operation: dot < 0 ? target : target.slice(dot + 1),
      protocol: contentType.includes('json-1.1') ? 'awsJson1_1' : 'awsJson1_0',
      targetPrefix: dot < 0 ? undefined : target.slice(0, dot),
    };
  }
  let action = query ? formValue(query, 'Action') : undefined;
  if (action === undefined && parts.body && isFormRequest(headers))
    action = formValue(parts.body.toString('latin1'), 'Action');
  if (action !== undefined || isFormRequest(headers)) {
    return {
      ...scope,
      operation: action,
      protocol: scope.service === 'ec2' ? 'ec2Query' : 'awsQuery',
      targetPrefix: undefined,
    };
  }
  return {
    ...scope,
    operation: undefined,
    protocol: REST_XML_SERVICES.has(scope.service) ? 'restXml' : 'restJson1',
    targetPrefix: undefined,
  };
}
