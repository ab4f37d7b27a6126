import { describe, expect, it } from 'vitest';
import { formValue, parseAwsRequest } from './aws-request.ts';

const auth = (region: string, service: string) =>
  `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/${region}/${service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc`;

describe('parseAwsRequest', () => {
  it('reads region, service, operation and JSON protocol from the credential scope and X-Amz-Target', () => {
    const info = parseAwsRequest({
      headers: {
        authorization: auth('eu-west-1', 'dynamodb'),
        'x-amz-target': 'DynamoDB_20120810.PutItem',
        'content-type': 'application/x-amz-json-1.0',
      },
      query: '',
    });
    expect(info).toEqual({
      region: 'eu-west-1',
      service: 'dynamodb',
      operation: 'PutItem',
      protocol: 'awsJson1_0',
      targetPrefix: 'DynamoDB_20120810',
    });
  });

  it('tells awsJson1_1 by its content type', () => {
    const info = parseAwsRequest({
      headers: {
        authorization: auth('us-east-1', 'kinesis'),
        'x-amz-target': 'Kinesis_20131202.PutRecord',
        'content-type': 'application/x-amz-json-1.1',
      },
      query: '',
    });
    expect(info?.protocol).toBe('awsJson1_1');
  });

  it('reads Action from a form-encoded body for ec2Query and awsQuery', () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };
    const ec2 = parseAwsRequest({
      headers: { ...form, authorization: auth('us-east-1', 'ec2') },
      query: '',
      body: Buffer.from('Action=DescribeInstances&Version=2016-11-15'),
    });
    expect(ec2).toMatchObject({ service: 'ec2', operation: 'DescribeInstances', protocol: 'ec2Query' });
    const sts = parseAwsRequest({
      headers: { ...form, authorization: auth('us-east-1', 'sts') },
      query: '',
      body: Buffer.from('Version=2011-06-15&Action=GetCallerIdentity'),
    });
    expect(sts).toMatchObject({ operation: 'GetCallerIdentity', protocol: 'awsQuery' });
  });

  it('reads Action and the credential from a presigned query string', () => {
    const info = parseAwsRequest({
      headers: {},
      query:
        'Action=ListQueues&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20260101%2Fap-south-1%2Fsqs%2Faws4_request&X-Amz-Signature=00',
    });
    expect(info).toMatchObject({
      region: 'ap-south-1',
      service: 'sqs',
      operation: 'ListQueues',
      protocol: 'awsQuery',
    });
  });

  it('classifies REST services without an operation', () => {
    expect(parseAwsRequest({ headers: { authorization: auth('us-east-1', 's3') }, query: '' })).toMatchObject(
      {
        protocol: 'restXml',
        operation: undefined,
      },
    );
    expect(
      parseAwsRequest({ headers: { authorization: auth('us-east-1', 'lambda') }, query: '' })?.protocol,
    ).toBe('restJson1');
  });

  it('returns undefined for unsigned or oddly signed requests', () => {
    expect(parseAwsRequest({ headers: {}, query: 'Action=X' })).toBeUndefined();
    expect(parseAwsRequest({ headers: { authorization: 'Bearer abc' }, query: '' })).toBeUndefined();
    expect(
      parseAwsRequest({ headers: { authorization: 'AWS4-HMAC-SHA256 Credential=AKID/2026/x' }, query: '' }),
    ).toBeUndefined();
  });
});

describe('formValue', () => {
  it('decodes names and values and tells absent from empty', () => {
    expect(formValue('a=1&Action=Send%20It&b', 'Action')).toBe('Send It');
    expect(formValue('a=1&b', 'b')).toBe('');
    expect(formValue('a=1', 'Action')).toBeUndefined();
    expect(formValue('Action=%E0%A4%A', 'Action')).toBe('%E0%A4%A');
  });
});
