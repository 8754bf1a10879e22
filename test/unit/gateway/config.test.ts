import { describe, expect, it } from 'vitest';
import { ConfigurationError, loadConfig } from '../../../lambda/config';

const INSTANCE_ARN = 'arn:aws:connect:eu-west-1:123456789012:instance/11111111-1111-4111-8111-111111111111';
const minimal = { CONNECT_INSTANCE_ARN: INSTANCE_ARN, IDEMPOTENCY_TABLE_NAME: 'idem', LEDGER_TABLE_NAME: 'ledger' };

function configErrorOf(env: NodeJS.ProcessEnv): ConfigurationError {
  let caught: unknown;
  try {
    loadConfig(env);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ConfigurationError);
  return caught as ConfigurationError;
}

describe('loadConfig: defaults', () => {
  it('reads the instance from its ARN and applies the contract defaults', () => {
    const config = loadConfig(minimal);
    expect(config.instance).toEqual({
      arn: INSTANCE_ARN,
      id: '11111111-1111-4111-8111-111111111111',
      partition: 'aws',
      region: 'eu-west-1',
      account: '123456789012',
    });
    expect(config.allowedChannels).toEqual(['TASK', 'EMAIL']);
    expect(config.maxTransfers).toBe(11);
    expect(config.metadataCacheTtlMs).toBe(60_000);
    expect(config.idempotencyTable).toBe('idem');
    expect(config.ledgerTable).toBe('ledger');
  });

  it.each([
    ['aws-us-gov', 'us-gov-west-1'],
    ['aws-cn', 'cn-north-1'],
  ])('accepts an instance in the %s partition', (partition, region) => {
    const arn = `arn:${partition}:connect:${region}:123456789012:instance/abc-1`;
    expect(loadConfig({ ...minimal, CONNECT_INSTANCE_ARN: arn }).instance).toMatchObject({ partition, region, id: 'abc-1' });
  });

  it('reads explicit values', () => {
    const config = loadConfig({ ...minimal, ALLOWED_CHANNELS: 'task, email,TASK', MAX_TRANSFERS: '3', METADATA_CACHE_TTL_SECONDS: '0' });
    expect(config.allowedChannels).toEqual(['TASK', 'EMAIL']);
    expect(config.maxTransfers).toBe(3);
    expect(config.metadataCacheTtlMs).toBe(0);
  });

  it('an empty optional variable means its default', () => {
    expect(loadConfig({ ...minimal, ALLOWED_CHANNELS: '', MAX_TRANSFERS: ' ' })).toMatchObject({ allowedChannels: ['TASK', 'EMAIL'], maxTransfers: 11 });
  });
});

describe('loadConfig: a bad variable fails the cold start with one line naming it', () => {
  const withoutArn = { ...minimal, CONNECT_INSTANCE_ARN: undefined };
  const withoutLedger = { ...minimal, LEDGER_TABLE_NAME: undefined };

  it.each<[string, NodeJS.ProcessEnv, string]>([
    ['missing instance ARN', withoutArn, 'CONNECT_INSTANCE_ARN'],
    ['blank instance ARN', { ...minimal, CONNECT_INSTANCE_ARN: '  ' }, 'CONNECT_INSTANCE_ARN'],
    ['an instance id instead of its ARN', { ...minimal, CONNECT_INSTANCE_ARN: '11111111-1111-4111-8111-111111111111' }, 'CONNECT_INSTANCE_ARN'],
    ['a queue ARN', { ...minimal, CONNECT_INSTANCE_ARN: `${INSTANCE_ARN}/queue/q-1` }, 'CONNECT_INSTANCE_ARN'],
    ['another service', { ...minimal, CONNECT_INSTANCE_ARN: INSTANCE_ARN.replace(':connect:', ':lambda:') }, 'CONNECT_INSTANCE_ARN'],
    ['a short account', { ...minimal, CONNECT_INSTANCE_ARN: INSTANCE_ARN.replace('123456789012', '1234') }, 'CONNECT_INSTANCE_ARN'],
    ['MAX_TRANSFERS not a number', { ...minimal, MAX_TRANSFERS: 'eleven' }, 'MAX_TRANSFERS'],
    ['MAX_TRANSFERS zero', { ...minimal, MAX_TRANSFERS: '0' }, 'MAX_TRANSFERS'],
    ['MAX_TRANSFERS negative', { ...minimal, MAX_TRANSFERS: '-1' }, 'MAX_TRANSFERS'],
    ['MAX_TRANSFERS fractional', { ...minimal, MAX_TRANSFERS: '2.5' }, 'MAX_TRANSFERS'],
    ['an unknown channel', { ...minimal, ALLOWED_CHANNELS: 'TASK,FAX' }, 'ALLOWED_CHANNELS'],
    ['an empty channel in the list', { ...minimal, ALLOWED_CHANNELS: 'TASK,,EMAIL' }, 'ALLOWED_CHANNELS'],
    ['a negative cache TTL', { ...minimal, METADATA_CACHE_TTL_SECONDS: '-5' }, 'METADATA_CACHE_TTL_SECONDS'],
    ['missing ledger table', withoutLedger, 'LEDGER_TABLE_NAME'],
  ])('%s', (_case, env, variable) => {
    const error = configErrorOf(env);
    expect(error.message).toContain(variable);
    expect(error.message).not.toContain('\n');
  });

  it('a malformed ARN message shows the expected form and the value given', () => {
    const message = configErrorOf({ ...minimal, CONNECT_INSTANCE_ARN: 'not-an-arn' }).message;
    expect(message).toContain('arn:<partition>:connect:<region>:<account>:instance/<instanceId>');
    expect(message).toContain('"not-an-arn"');
  });

  it('an unknown channel message lists the channels that exist', () => {
    expect(configErrorOf({ ...minimal, ALLOWED_CHANNELS: 'SMS' }).message).toMatch(/TASK, EMAIL \(the channels Amazon Connect's TransferContact accepts\)/);
  });
});

describe('loadConfig: what only the stack\'s own doors set (contract section 7)', () => {
  it('by default trusts the instance\'s account and the default event source, and no API', () => {
    expect(loadConfig(minimal).doors).toEqual({ account: '123456789012', eventSources: ['internal.contact-transfer'] });
  });

  it('reads the REST API, its stage, the stack account and the event sources', () => {
    const config = loadConfig({ ...minimal, TRANSFER_API_ID: 'a1b2c3d4e5', TRANSFER_API_STAGE: 'live', STACK_ACCOUNT_ID: '444455556666', EVENT_SOURCES: 'crm.escalations, billing.jobs' });
    expect(config.doors).toEqual({ account: '444455556666', api: { id: 'a1b2c3d4e5', stage: 'live' }, eventSources: ['crm.escalations', 'billing.jobs'] });
  });

  it('the stage defaults to prod, as the stack\'s', () => {
    expect(loadConfig({ ...minimal, TRANSFER_API_ID: 'a1b2c3d4e5' }).doors.api).toEqual({ id: 'a1b2c3d4e5', stage: 'prod' });
  });

  it.each<[string, NodeJS.ProcessEnv, string]>([
    ['an API id that is not one', { ...minimal, TRANSFER_API_ID: 'My API' }, 'TRANSFER_API_ID'],
    ['a stage name with a slash', { ...minimal, TRANSFER_API_STAGE: 'prod/x' }, 'TRANSFER_API_STAGE'],
    ['a short account', { ...minimal, STACK_ACCOUNT_ID: '1234' }, 'STACK_ACCOUNT_ID'],
    ['an aws.* event source', { ...minimal, EVENT_SOURCES: 'aws.connect' }, 'EVENT_SOURCES'],
    ['an empty event source in the list', { ...minimal, EVENT_SOURCES: 'a.b,,c.d' }, 'EVENT_SOURCES'],
  ])('%s fails the cold start naming the variable', (_case, env, variable) => {
    const error = configErrorOf(env);
    expect(error.message).toContain(variable);
    expect(error.message).not.toContain('\n');
  });
});

describe('loadConfig: pacing and the event buffer', () => {
  it('paces TransferContact at 2/s with a burst of 2 by default, and has no event door without a buffer', () => {
    const config = loadConfig(minimal);
    expect(config.pace).toEqual({ ratePerSecond: 2, burst: 2 });
    expect(config.eventBuffer).toBeUndefined();
  });

  it('reads the buffer queue and its receives, and refuses what SQS or the quota would not', () => {
    const buffer = { EVENT_BUFFER_QUEUE_ARN: 'arn:aws:sqs:eu-west-1:123456789012:buffer', EVENT_MAX_RECEIVES: '31' };
    expect(loadConfig({ ...minimal, ...buffer, TRANSFER_RATE_PER_SECOND: '0.5' })).toMatchObject({
      pace: { ratePerSecond: 0.5, burst: 2 },
      eventBuffer: { queueArn: buffer.EVENT_BUFFER_QUEUE_ARN, maxReceives: 31 },
    });
    expect(configErrorOf({ ...minimal, EVENT_BUFFER_QUEUE_ARN: buffer.EVENT_BUFFER_QUEUE_ARN }).message).toMatch(/EVENT_MAX_RECEIVES is required/);
    expect(configErrorOf({ ...minimal, ...buffer, EVENT_BUFFER_QUEUE_ARN: 'buffer' }).message).toMatch(/must be an SQS queue ARN/);
    expect(configErrorOf({ ...minimal, ...buffer, EVENT_MAX_RECEIVES: '1001' }).message).toMatch(/from 1 to 1000/);
    expect(configErrorOf({ ...minimal, TRANSFER_RATE_PER_SECOND: '0' }).message).toMatch(/TRANSFER_RATE_PER_SECOND must be a number from 0.1 to 1000/);
    expect(configErrorOf({ ...minimal, TRANSFER_BURST: '2.5' }).message).toMatch(/TRANSFER_BURST must be a whole number/);
  });

  it('has the backstops only when the stack names their queue and rule, and refuses what is not one', () => {
    expect(loadConfig(minimal)).not.toHaveProperty('deadLetterQueueArn');
    expect(loadConfig(minimal)).not.toHaveProperty('sweep');
    const backstops = {
      EVENT_DEAD_LETTER_QUEUE_ARN: 'arn:aws:sqs:eu-west-1:123456789012:dead-letters',
      TRANSFER_RULE_ARN: 'arn:aws:events:eu-west-1:123456789012:rule/Stack-GatewayTransferRule-1A2B3C4D',
      SWEEP_RULE_ARN: 'arn:aws:events:eu-west-1:123456789012:rule/Stack-Backstops-1A2B3C4D',
    };
    expect(loadConfig({ ...minimal, ...backstops, SWEEP_AFTER_SECONDS: '70' })).toMatchObject({
      deadLetterQueueArn: backstops.EVENT_DEAD_LETTER_QUEUE_ARN,
      transferRuleArn: backstops.TRANSFER_RULE_ARN,
      sweep: { ruleArn: backstops.SWEEP_RULE_ARN, afterMs: 70_000 },
    });
    // The dead-letter door cannot tell the rule's delivery failures from anyone's without the rule.
    expect(configErrorOf({ ...minimal, EVENT_DEAD_LETTER_QUEUE_ARN: backstops.EVENT_DEAD_LETTER_QUEUE_ARN }).message).toMatch(/TRANSFER_RULE_ARN is required with EVENT_DEAD_LETTER_QUEUE_ARN/);
    expect(configErrorOf({ ...minimal, EVENT_DEAD_LETTER_QUEUE_ARN: 'dead-letters' }).message).toMatch(/EVENT_DEAD_LETTER_QUEUE_ARN must be an SQS queue ARN/);
    expect(configErrorOf({ ...minimal, SWEEP_RULE_ARN: 'arn:aws:events:eu-west-1:123456789012:event-bus/default' }).message).toMatch(/SWEEP_RULE_ARN must be an EventBridge rule ARN/);
    expect(configErrorOf({ ...minimal, ...backstops, SWEEP_AFTER_SECONDS: '-1' }).message).toMatch(/SWEEP_AFTER_SECONDS must be a whole number from 0/);
  });
});
