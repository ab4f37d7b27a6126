import { describe, expect, it } from 'vitest';
import { awsErrorResponse } from './aws-error-response.ts';

const base = {
  service: 'dynamodb',
  code: 'ThrottlingException',
  status: 400,
  message: 'slow <down>',
  requestId: 'R1',
};

describe('awsErrorResponse', () => {
  it('shapes awsJson1_0 errors the way DynamoDB does', () => {
    const r = awsErrorResponse({ ...base, protocol: 'awsJson1_0', targetPrefix: 'DynamoDB_20120810' });
    expect(r.status).toBe(400);
    expect(r.headers).toMatchObject({
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-errortype': 'ThrottlingException',
      'x-amzn-requestid': 'R1',
    });
    expect(JSON.parse(String(r.body))).toEqual({
      __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException',
      message: 'slow <down>',
    });
  });

  it('adds the query-compatible error header for SQS JSON', () => {
    const r = awsErrorResponse({
      ...base,
      service: 'sqs',
      protocol: 'awsJson1_0',
      code: 'ServiceUnavailable',
      status: 503,
    });
    expect(r.headers?.['x-amzn-query-error']).toBe('ServiceUnavailable;Receiver');
    expect(JSON.parse(String(r.body)).__type).toBe('com.amazonaws.sqs#ServiceUnavailable');
  });

  it('shapes awsQuery and ec2Query errors as XML with escaped text', () => {
    const q = awsErrorResponse({ ...base, service: 'sts', protocol: 'awsQuery', code: 'Throttling' });
    expect(q.body).toContain('<ErrorResponse');
    expect(q.body).toContain(
      '<Type>Sender</Type><Code>Throttling</Code><Message>slow &#60;down&#62;</Message>',
    );
    expect(q.body).toContain('<RequestId>R1</RequestId>');
    const e = awsErrorResponse({
      ...base,
      service: 'ec2',
      protocol: 'ec2Query',
      code: 'RequestLimitExceeded',
      status: 503,
    });
    expect(e.status).toBe(503);
    expect(e.body).toContain('<Response><Errors><Error><Code>RequestLimitExceeded</Code>');
    expect(e.body).toContain('<RequestID>R1</RequestID>');
  });

  it('shapes REST errors with their headers', () => {
    const j = awsErrorResponse({
      ...base,
      service: 'lambda',
      protocol: 'restJson1',
      code: 'TooManyRequestsException',
      status: 429,
    });
    expect(j.headers?.['x-amzn-errortype']).toBe('TooManyRequestsException');
    const x = awsErrorResponse({
      ...base,
      service: 's3',
      protocol: 'restXml',
      code: 'SlowDown',
      status: 503,
    });
    expect(x.headers?.['x-amz-request-id']).toBe('R1');
    expect(x.body).toContain('<Error><Code>SlowDown</Code>');
  });
});
