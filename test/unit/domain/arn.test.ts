import { describe, expect, it } from 'vitest';
import { contactArn, parseInstanceArn, resolveResourceId } from '../../../lambda/domain/arn';
import type { ConnectInstance } from '../../../lambda/domain/arn';

const INSTANCE_ID = '11111111-1111-4111-8111-111111111111';
const INSTANCE_ARN = `arn:aws:connect:eu-west-1:123456789012:instance/${INSTANCE_ID}`;

describe('parseInstanceArn: the configured instance', () => {
  it('splits an instance ARN into partition, Region, account and id', () => {
    expect(parseInstanceArn(INSTANCE_ARN)).toEqual({ arn: INSTANCE_ARN, id: INSTANCE_ID, partition: 'aws', region: 'eu-west-1', account: '123456789012' });
  });

  it.each([
    ['China', 'arn:aws-cn:connect:cn-north-1:123456789012:instance/i-1', 'aws-cn'],
    ['GovCloud', 'arn:aws-us-gov:connect:us-gov-west-1:123456789012:instance/i-1', 'aws-us-gov'],
  ])('takes an instance of the %s partition', (_partition, arn, partition) => {
    expect(parseInstanceArn(arn)).toMatchObject({ partition, id: 'i-1' });
  });

  it.each([
    ['text that is no ARN', 'not-an-arn'],
    ['an empty string', ''],
    ['an ARN behind other text', `x${INSTANCE_ARN}`],
    ['an ARN of a queue inside the instance', `${INSTANCE_ARN}/queue/q-1`],
    ['an ARN with text after the id', `${INSTANCE_ARN} `],
    ['an account of 11 digits', `arn:aws:connect:eu-west-1:12345678901:instance/${INSTANCE_ID}`],
    ['another service', `arn:aws:chime:eu-west-1:123456789012:instance/${INSTANCE_ID}`],
  ])('refuses %s', (_case, arn) => {
    expect(parseInstanceArn(arn)).toBeUndefined();
  });
});

describe('resolveResourceId and contactArn', () => {
  const instance = parseInstanceArn(INSTANCE_ARN) as ConnectInstance;

  it('a queue ARN whose instance part is no instance ARN is malformed', () => {
    expect(resolveResourceId('arn:bogus/queue/q-1', 'queue', instance)).toEqual({ kind: 'malformed', expected: `${INSTANCE_ARN}/queue/<id>` });
  });

  it("names a contact by the ARN Connect's own events and IAM policies use", () => {
    expect(contactArn(instance, 'c-1')).toBe(`${INSTANCE_ARN}/contact/c-1`);
  });
});
