import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContextError, parseGatewayContext } from '../../lib/context';
import { INSTANCE_ARN, INSTANCE_ID } from './synth';

const ROOT = path.join(__dirname, '..', '..');

function contextError(source: Record<string, unknown>): ContextError {
  try {
    parseGatewayContext(source);
  } catch (error) {
    if (error instanceof ContextError) return error;
    throw error;
  }
  throw new Error('expected a ContextError');
}

describe('parseGatewayContext', () => {
  it('needs only the instance ARN and applies the contract\'s defaults', () => {
    expect(parseGatewayContext({ connectInstanceArn: INSTANCE_ARN })).toEqual({
      connectInstance: { arn: INSTANCE_ARN, id: INSTANCE_ID, partition: 'aws', region: 'us-east-1', account: '111122223333' },
      connectInstanceArn: INSTANCE_ARN,
      allowedChannels: ['TASK', 'EMAIL'],
      maxTransfers: 11,
      eventSources: ['internal.contact-transfer'],
      allowedAccounts: [],
      throttlingRateLimit: 2,
      throttlingBurstLimit: 5,
      logLevel: 'INFO',
      logRetentionDays: 30,
      metadataCacheTtlSeconds: 60,
      idempotencyTtlSeconds: 3600,
      ledgerRetentionDays: 30,
      bufferAgeAlarmSeconds: 900,
      tracing: false,
      vpcEndpointIds: [],
      transferRatePerSecond: 2,
      transferBurst: 2,
      transferEventSource: 'contact-transfer-gateway',
      memorySize: 512,
      stageName: 'prod',
    });
  });

  it('bounds the pacing of TransferContact as the function does', () => {
    expect(parseGatewayContext({ connectInstanceArn: INSTANCE_ARN, transferRatePerSecond: '0.5', transferBurst: '1' })).toMatchObject({
      transferRatePerSecond: 0.5,
      transferBurst: 1,
    });
    expect(() => parseGatewayContext({ connectInstanceArn: INSTANCE_ARN, transferRatePerSecond: 0 })).toThrow(
      'Invalid CDK context "transferRatePerSecond" ("0"), expected a number from 0.1 to 1000: pass -c transferRatePerSecond=<value>',
    );
    expect(() => parseGatewayContext({ connectInstanceArn: INSTANCE_ARN, transferBurst: 101 })).toThrow(/expected a whole number from 1 to 100/);
  });

  it('reads typed values from cdk.json and strings from -c alike', () => {
    const typed = parseGatewayContext({
      connectInstanceArn: INSTANCE_ARN,
      allowedChannels: ['task'],
      maxTransfers: 3,
      eventSources: ['a.b', 'c.d'],
      allowedAccounts: ['444455556666'],
      allowedOrganizationId: 'o-abcdefghij',
      throttlingRateLimit: 1.5,
      throttlingBurstLimit: 2,
      logLevel: 'debug',
      logRetentionDays: 7,
      metadataCacheTtlSeconds: 0,
      idempotencyTtlSeconds: 7200,
      ledgerRetentionDays: 90,
      alarmTopicArn: 'arn:aws:sns:us-east-1:111122223333:ops-alarms',
      alarmEmail: 'oncall@example.com',
      bufferAgeAlarmSeconds: 600,
      tracing: true,
      vpcEndpointIds: ['vpce-0123456789abcdef0', 'vpce-0fedcba9876543210'],
    });
    const fromCli = parseGatewayContext({
      connectInstanceArn: ` ${INSTANCE_ARN} `,
      allowedChannels: '["TASK"]',
      maxTransfers: '3',
      eventSources: 'a.b, c.d',
      allowedAccounts: '444455556666',
      allowedOrganizationId: 'o-abcdefghij',
      throttlingRateLimit: '1.5',
      throttlingBurstLimit: '2',
      logLevel: 'DEBUG',
      logRetentionDays: '7',
      metadataCacheTtlSeconds: '0',
      idempotencyTtlSeconds: '7200',
      ledgerRetentionDays: '90',
      alarmTopicArn: 'arn:aws:sns:us-east-1:111122223333:ops-alarms',
      alarmEmail: ' oncall@example.com ',
      bufferAgeAlarmSeconds: '600',
      tracing: 'true',
      vpcEndpointIds: 'vpce-0123456789abcdef0,vpce-0fedcba9876543210',
    });
    expect(fromCli).toEqual(typed);
    expect(typed).toMatchObject({ allowedChannels: ['TASK'], eventSources: ['a.b', 'c.d'], logLevel: 'DEBUG', allowedOrganizationId: 'o-abcdefghij' });
  });

  it('accepts a context reader such as app.node.tryGetContext', () => {
    const context: Record<string, unknown> = { connectInstanceArn: INSTANCE_ARN, maxTransfers: '5' };
    expect(parseGatewayContext((key) => context[key]).maxTransfers).toBe(5);
  });

  it.each([
    [{}, 'connectInstanceArn', /^Missing CDK context "connectInstanceArn"/],
    [{ connectInstanceArn: '' }, 'connectInstanceArn', /^Missing CDK context "connectInstanceArn"/],
    [{ connectInstanceArn: 'arn:aws:connect:us-east-1:1111:instance/x' }, 'connectInstanceArn', /expected an Amazon Connect instance ARN/],
    [{ connectInstanceArn: `${INSTANCE_ARN}/queue/q` }, 'connectInstanceArn', /expected an Amazon Connect instance ARN/],
    [{ connectInstanceArn: 42 }, 'connectInstanceArn', /expected an Amazon Connect instance ARN/],
  ])('%j: %s is rejected with one line saying how to pass it', (source, key, pattern) => {
    const error = contextError(source);
    expect(error.key).toBe(key);
    expect(error.message).toMatch(pattern);
    expect(error.message).toContain('-c connectInstanceArn=arn:aws:connect:<region>:<account>:instance/<id>');
    expect(error.message).toContain('cdk.json');
    expect(error.message).not.toContain('\n');
  });

  it.each([
    ['allowedChannels', 'TASK,FAX'],
    ['allowedChannels', []],
    ['allowedChannels', '[not json'],
    ['maxTransfers', '0'],
    ['maxTransfers', 'eleven'],
    ['maxTransfers', 2.5],
    ['eventSources', 'aws.connect'],
    ['eventSources', [1]],
    ['allowedAccounts', '1234'],
    ['allowedOrganizationId', 'org-1'],
    ['throttlingRateLimit', '0'],
    ['throttlingBurstLimit', '-1'],
    ['logLevel', 'LOUD'],
    ['logRetentionDays', '31'],
    ['metadataCacheTtlSeconds', '3601'],
    ['idempotencyTtlSeconds', '600'],
    ['ledgerRetentionDays', '7'],
    ['alarmTopicArn', 'ops-alarms'],
    ['alarmTopicArn', 'arn:aws:sns:eu-west-1:111122223333:ops-alarms'],
    ['alarmTopicArn', 'arn:aws:sqs:us-east-1:111122223333:ops-alarms'],
    ['alarmEmail', 'oncall'],
    ['bufferAgeAlarmSeconds', '60'],
    ['tracing', 'yes'],
    ['vpcEndpointIds', 'vpc-0123456789abcdef0'],
    ['memorySize', '64'],
    ['stageName', 'prod/x'],
  ])('%s=%j is rejected naming the key', (key, value) => {
    const error = contextError({ connectInstanceArn: INSTANCE_ARN, [key]: value });
    expect(error.key).toBe(key);
    expect(error.message).toMatch(new RegExp(`^Invalid CDK context "${key}"`));
    expect(error.message).toContain(`-c ${key}=`);
    expect(error.message).not.toContain('\n');
  });
});

describe('bin/app.ts without usable context', () => {
  /** The app as the CDK CLI runs it, minus the CLI: context arrives in CDK_CONTEXT_JSON. */
  let outdir: string;
  beforeAll(() => {
    outdir = mkdtempSync(path.join(tmpdir(), 'ctg-app-test-'));
  });
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  function runApp(context: Record<string, unknown> | undefined) {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.CDK_CONTEXT_JSON;
    // Otherwise the App makes a temporary cdk.out of its own on every run.
    env.CDK_OUTDIR = outdir;
    if (context) env.CDK_CONTEXT_JSON = JSON.stringify(context);
    return spawnSync(process.execPath, ['--import', 'tsx', 'bin/app.ts'], { cwd: ROOT, env, encoding: 'utf8', timeout: 20_000 });
  }

  it.each([
    ['missing connectInstanceArn', undefined, /^Missing CDK context "connectInstanceArn"/],
    ['malformed connectInstanceArn', { connectInstanceArn: 'arn:aws:connect:us-east-1:123:instance' }, /^Invalid CDK context "connectInstanceArn"/],
    // Connect's TransferContact refuses VOICE and CHAT contacts: allowing them would promise transfers that cannot happen.
    ['VOICE in allowedChannels', { connectInstanceArn: 'arn:aws:connect:us-east-1:111122223333:instance/abc', allowedChannels: ['TASK', 'VOICE'] }, /^Invalid CDK context "allowedChannels".*TASK, EMAIL \(the channels Amazon Connect's TransferContact accepts\)/],
    ['CHAT in allowedChannels', { connectInstanceArn: 'arn:aws:connect:us-east-1:111122223333:instance/abc', allowedChannels: 'CHAT' }, /^Invalid CDK context "allowedChannels"/],
  ])('%s: exit code 1 and one line on stderr, no stack trace', (_, context, pattern) => {
    const result = runApp(context);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.split('\n').filter((line) => line.trim() !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(pattern);
    const key = context !== undefined && 'allowedChannels' in context ? 'allowedChannels=' : 'connectInstanceArn=arn:aws:connect:<region>:<account>:instance/<id>';
    expect(lines[0]).toContain(`-c ${key}`);
  });
});
