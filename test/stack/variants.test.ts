import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContactTransferGateway } from '../../lib/contact-transfer-gateway';
import { parseGatewayContext } from '../../lib/context';
import { ACCOUNT, INSTANCE_ARN, METHOD_RESOURCES, all, only, synthesize, serviceFunction } from './synth';
import type { Synthesized } from './synth';

/** Every optional knob set away from its default; bundling skipped (stack.test.ts bundles for real). */
let synth: Synthesized;

beforeAll(() => {
  synth = synthesize({
    context: {
      allowedChannels: 'TASK',
      maxTransfers: '4',
      eventSources: '["billing.workflows","crm.escalations"]',
      allowedAccounts: '444455556666,777788889999',
      allowedOrganizationId: 'o-abcdefghij',
      throttlingRateLimit: '1',
      throttlingBurstLimit: '2',
      logLevel: 'debug',
      logRetentionDays: '7',
      metadataCacheTtlSeconds: '0',
    },
  });
});
afterAll(() => synth?.cleanup());

describe('context knobs reach the stack', () => {
  it('the resource policy adds the listed accounts and the organization', () => {
    const { resource } = only(synth.template, 'AWS::ApiGateway::RestApi');
    const method = METHOD_RESOURCES;
    expect(resource.Properties?.Policy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'AllowedAccounts',
          Effect: 'Allow',
          Principal: {
            AWS: [`arn:aws:iam::${ACCOUNT}:root`, 'arn:aws:iam::444455556666:root', 'arn:aws:iam::777788889999:root'],
          },
          Action: 'execute-api:Invoke',
          Resource: method,
        },
        {
          Sid: 'AllowedOrganization',
          Effect: 'Allow',
          Principal: { AWS: '*' },
          Action: 'execute-api:Invoke',
          Resource: method,
          Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abcdefghij' } },
        },
      ],
    });
  });

  it('the rule accepts the configured sources', () => {
    const rule = synth.stack.gateway.transferRule.node.defaultChild as never;
    const resource = synth.template.toJSON().Resources[synth.stack.resolve(synth.stack.getLogicalId(rule)) as string] as { Properties?: Record<string, unknown> };
    expect(resource.Properties?.EventPattern).toEqual({ 'detail-type': ['TransferContact'], source: ['billing.workflows', 'crm.escalations'] });
  });

  it('the function trusts exactly the sources the rule matches (contract section 7)', () => {
    const { resource } = serviceFunction(synth.template);
    expect((resource.Properties as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables).toMatchObject({
      EVENT_SOURCES: 'billing.workflows,crm.escalations',
      STACK_ACCOUNT_ID: ACCOUNT,
    });
  });

  it('the function gets channels, limits, cache TTL and log level', () => {
    const { resource } = serviceFunction(synth.template);
    expect((resource.Properties as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables).toMatchObject({
      ALLOWED_CHANNELS: 'TASK',
      MAX_TRANSFERS: '4',
      METADATA_CACHE_TTL_SECONDS: '0',
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
    });
  });

  it('throttling and retention follow the context, and the 429 says the numbers', () => {
    const { resource } = only(synth.template, 'AWS::ApiGateway::Stage');
    expect(resource.Properties?.MethodSettings).toEqual([expect.objectContaining({ ThrottlingRateLimit: 1, ThrottlingBurstLimit: 2 })]);
    for (const group of all(synth.template, 'AWS::Logs::LogGroup')) expect(group.Properties?.RetentionInDays).toBe(7);
    const throttled = all(synth.template, 'AWS::ApiGateway::GatewayResponse').find((r) => r.Properties?.ResponseType === 'THROTTLED')!;
    expect(JSON.stringify(throttled.Properties?.ResponseTemplates)).toContain('admits 1 per second (burst 2)');
  });
});

describe('the construct refuses what cannot work', () => {
  const settings = parseGatewayContext({ connectInstanceArn: INSTANCE_ARN });
  // An outdir inside the synthesized one, so these never-synthesized apps leave no temp directory of their own.
  const stackIn = (account: string) =>
    new Stack(new App({ outdir: path.join(synth.app.outdir, 'scratch'), context: { 'aws:cdk:bundling-stacks': [] } }), 'S', {
      env: { account, region: 'us-east-1' },
    });

  it('an instance in another account than the stack', () => {
    expect(() => new ContactTransferGateway(stackIn('999999999999'), 'Gateway', settings)).toThrow(/must be deployed to the instance account/);
  });

  it('a timeout that API Gateway would cut off', () => {
    expect(() => new ContactTransferGateway(stackIn(ACCOUNT), 'Gateway', { ...settings, timeout: Duration.seconds(29) })).toThrow(/29 s/);
  });

  it('the function is told the stage the API serves, whatever it is named', () => {
    const stack = stackIn(ACCOUNT);
    new ContactTransferGateway(stack, 'Gateway', { ...settings, stageName: 'live' });
    const { resource } = serviceFunction(Template.fromStack(stack));
    expect((resource.Properties as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables.TRANSFER_API_STAGE).toBe('live');
  });

  it('a prop outside the bounds the function itself checks at cold start (the settings table), naming the prop', () => {
    expect(() => new ContactTransferGateway(stackIn(ACCOUNT), 'Gateway', { ...settings, maxTransfers: 0 })).toThrow(
      'Invalid ContactTransferGateway prop "maxTransfers" ("0"), expected a whole number from 1 to 1000',
    );
  });
});
