import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDEMPOTENCY_TABLE, LEDGER_TABLE } from '../../lambda/tables';
import { EVENT_BUFFER, returnDelayFor } from '../../lambda/event-buffer';
import { GATEWAY_BUNDLE } from '../../lib/gateway-bundle';
import { FUNCTION_RUNTIME } from '../../lib/gateway-function';
import { TRANSFER_EVENT_PIPES } from '../../lib/transfer-events';
import { ACCOUNT, INSTANCE_ARN, METHOD_RESOURCES, REGION, all, asArray, only, synthesize, serviceFunction } from './synth';
import type { Synthesized } from './synth';

let synth: Synthesized;
let resolve: (value: unknown) => unknown;

beforeAll(() => {
  // The one real synthesis of this file, esbuild included: the bundle must build from lambda/handler.ts.
  synth = synthesize({ bundle: true });
  resolve = (value) => synth.stack.resolve(value);
});
afterAll(() => synth?.cleanup());

const gateway = () => synth.stack.gateway;
const logicalId = (construct: { node: { defaultChild?: unknown } }) => synth.stack.resolve(synth.stack.getLogicalId(construct.node.defaultChild as never)) as string;
const functionRoleId = () => logicalId(gateway().role);
const directRoleId = () => logicalId(gateway().directRole);
/** A role's one policy, its statements as sorted actions and resources. */
const statementsOf = (roleId: string) => {
  const policies = all(synth.template, 'AWS::IAM::Policy').filter((policy) =>
    asArray(policy.Properties?.Roles as unknown).some((role) => JSON.stringify(role) === JSON.stringify({ Ref: roleId })),
  );
  expect(policies).toHaveLength(1);
  const statements = (policies[0]!.Properties as { PolicyDocument: { Statement: Record<string, unknown>[] } }).PolicyDocument.Statement;
  return statements.map((statement) => ({
    Effect: statement.Effect,
    Action: asArray(statement.Action as string | string[]).sort(),
    Resource: asArray(statement.Resource).map((resource) => (typeof resource === 'string' ? resource : JSON.stringify(resource))).sort(),
  }));
};
const pipesRoleId = () => logicalId(gateway().node.findChild('EventPipesRole') as never);
/** The template resource of a construct, where a type has more than one (two rules, two mappings). */
const resourceOf = (construct: { node: { defaultChild?: unknown } }) => {
  const id = logicalId(construct);
  return { id, resource: synth.template.toJSON().Resources[id] as { Properties?: Record<string, unknown>; DependsOn?: unknown } };
};

/** `<HTTP method> <path>` of an AWS::ApiGateway::Method, its path rebuilt from the resources' parents. */
const routeOf = (method: { Properties?: Record<string, unknown> }): string => {
  const resources = synth.template.toJSON().Resources as Record<string, { Properties: { PathPart: string; ParentId: { Ref?: string } } }>;
  const parts: string[] = [];
  for (let id = (method.Properties?.ResourceId as { Ref?: string }).Ref; id !== undefined && resources[id]?.Properties.PathPart !== undefined; id = resources[id]?.Properties.ParentId.Ref) {
    parts.unshift(resources[id]!.Properties.PathPart);
  }
  return `${String(method.Properties?.HttpMethod)} /${parts.join('/')}`;
};

describe('the function', () => {
  it('is Node.js 24 on arm64, bundled from lambda/handler.ts, with a timeout below API Gateway\'s 29 s', () => {
    const { resource } = serviceFunction(synth.template);
    expect(resource.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 512,
      Timeout: 10,
    });
    expect(resource.Properties).not.toHaveProperty('ReservedConcurrentExecutions');
    // The asset directory is named after the hash that names the uploaded zip.
    const hash = String((resource.Properties as { Code: { S3Key: string } }).Code.S3Key).replace(/\.zip$/, '');
    expect(existsSync(path.join(synth.app.outdir, `asset.${hash}`, 'index.js'))).toBe(true);
    expect(existsSync(path.join(synth.app.outdir, `asset.${hash}`, 'index.js.map'))).toBe(true);
  });

  it('runs on the Node its bundle targets and the project builds and tests on: one major in all four places', async () => {
    const root = path.join(__dirname, '..', '..');
    const major = (version: string) => /(\d+)/.exec(version)?.[1];
    const nvmrc = await readFile(path.join(root, '.nvmrc'), 'utf8');
    const { engines } = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { engines: { node: string } };
    const { resource } = serviceFunction(synth.template);
    const runtime = String((resource.Properties as { Runtime: string }).Runtime);

    expect(runtime).toBe(FUNCTION_RUNTIME.name);
    expect({ bundleTarget: major(String(GATEWAY_BUNDLE.target)), nvmrc: major(nvmrc), engines: major(engines.node) }).toEqual({
      bundleTarget: major(runtime),
      nvmrc: major(runtime),
      engines: major(runtime),
    });
  });

  it('is configured through the environment variables lambda/config.ts reads', () => {
    const { resource } = serviceFunction(synth.template);
    expect((resource.Properties as { Environment: unknown }).Environment).toEqual({
      Variables: {
        CONNECT_INSTANCE_ARN: INSTANCE_ARN,
        ALLOWED_CHANNELS: 'TASK,EMAIL',
        MAX_TRANSFERS: '11',
        IDEMPOTENCY_TABLE_NAME: resolve(gateway().idempotencyTable.tableName),
        LEDGER_TABLE_NAME: resolve(gateway().ledgerTable.tableName),
        METADATA_CACHE_TTL_SECONDS: '60',
        IDEMPOTENCY_TTL_SECONDS: '3600',
        LEDGER_RETENTION_DAYS: '30',
        STACK_ACCOUNT_ID: ACCOUNT,
        TRANSFER_API_ID: resolve(gateway().api.restApiId),
        TRANSFER_API_STAGE: 'prod',
        EVENT_SOURCES: 'internal.contact-transfer',
        // Unique per gateway, so two stacks in one account never share metrics or alarms.
        TRANSFER_RATE_PER_SECOND: '2',
        TRANSFER_BURST: '2',
        EVENT_BUFFER_QUEUE_ARN: resolve(gateway().eventBuffer.queueArn),
        // The redrive's own count (the buffer's test below checks what it holds).
        EVENT_MAX_RECEIVES: String(EVENT_BUFFER.maxReceiveCount),
        // The backstops (test/stack/backstops.test.ts).
        EVENT_DEAD_LETTER_QUEUE_ARN: resolve(gateway().deadLetterQueue.queueArn),
        TRANSFER_RULE_ARN: resolve(gateway().transferRule.ruleArn),
        SWEEP_RULE_ARN: expect.stringMatching(/^arn:aws:events:us-east-1:111122223333:rule\//),
        SWEEP_AFTER_SECONDS: '70',
        // Scheduled transfers (test/stack/schedules.test.ts).
        SCHEDULES_TABLE: resolve(gateway().schedules.table.tableName),
        SCHEDULE_GROUP_NAME: gateway().schedules.scheduleGroup.scheduleGroupName,
        SCHEDULER_ROLE_ARN: resolve(gateway().schedules.schedulerRole.roleArn),
        SCHEDULE_TARGET_ARN: resolve(gateway().eventBuffer.queueArn),
        SCHEDULE_DEAD_LETTER_ARN: resolve(gateway().schedules.deadLetterQueue.queueArn),
        // Unique per gateway, so two stacks in one account never share metrics or alarms.
        POWERTOOLS_SERVICE_NAME: 'ContactTransferGateway-Gateway',
        POWERTOOLS_METRICS_NAMESPACE: 'ContactTransferGateway',
        POWERTOOLS_LOG_LEVEL: 'INFO',
      },
    });
  });

  it('names its own REST API to the function without a dependency cycle: the API does not depend on the function', () => {
    const { id: functionId } = serviceFunction(synth.template);
    const { id: apiId, resource: api } = only(synth.template, 'AWS::ApiGateway::RestApi');
    expect(JSON.stringify(api)).not.toContain(functionId);
    const { resource } = serviceFunction(synth.template);
    expect((resource.Properties as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables.TRANSFER_API_ID).toEqual({ Ref: apiId });
  });

  it('logs to its own log group, which has a retention', () => {
    const { resource } = serviceFunction(synth.template);
    const logGroup = gateway().gatewayFunction.logGroup;
    expect((resource.Properties as { LoggingConfig: unknown }).LoggingConfig).toEqual({ LogGroup: resolve(logGroup.logGroupName) });
    synth.template.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 30 },
      DeletionPolicy: 'Retain',
    });
    for (const group of all(synth.template, 'AWS::Logs::LogGroup')) expect(group.Properties?.RetentionInDays).toBe(30);
  });
});

describe('IAM', () => {
  const base = INSTANCE_ARN;

  const arn = (token: string) => JSON.stringify(resolve(token));
  const transferStatements = () => [
    { Effect: 'Allow', Action: ['connect:TransferContact'], Resource: [base, `${base}/contact-flow/*`, `${base}/contact/*`] },
    { Effect: 'Allow', Action: ['connect:DescribeContact'], Resource: [`${base}/contact/*`] },
    { Effect: 'Allow', Action: ['connect:DescribeContactFlow'], Resource: [`${base}/contact-flow/*`] },
    { Effect: 'Allow', Action: ['connect:DescribeQueue'], Resource: [`${base}/queue/*`] },
    { Effect: 'Allow', Action: ['connect:DescribeUser'], Resource: [`${base}/agent/*`] },
    {
      Effect: 'Allow',
      Action: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      Resource: [arn(gateway().idempotencyTable.tableArn)],
    },
    {
      Effect: 'Allow',
      Action: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
      Resource: [arn(gateway().ledgerTable.tableArn)],
    },
  ];

  it('the direct-invocation function\'s role holds only what a transfer uses and its own log group: no queue, no index', () => {
    expect(statementsOf(directRoleId())).toEqual([
      ...transferStatements(),
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: [arn(gateway().directFunction.logGroup.logGroupArn)] },
    ]);
  });

  it('the function role carries exactly the actions the code calls, on the configured instance\'s ARNs', () => {
    const normalized = statementsOf(functionRoleId());
    expect(normalized).toEqual([
      ...transferStatements(),
      {
        Effect: 'Allow',
        // ChangeMessageVisibility on the buffer only: the dead-letter queue's records return as its timeout says.
        Action: ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'],
        Resource: [arn(gateway().eventBuffer.queueArn)],
      },
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: [arn(gateway().gatewayFunction.logGroup.logGroupArn)] },
      // Scheduled transfers, each held to its scope in test/stack/schedules.test.ts.
      { Effect: 'Allow', Action: ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule'], Resource: [expect.stringMatching(/:schedule\/[\w-]+\/\*$/)] },
      { Effect: 'Allow', Action: ['iam:PassRole'], Resource: [arn(gateway().schedules.schedulerRole.roleArn)] },
      {
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        Resource: [arn(gateway().schedules.table.tableArn)],
      },
      { Effect: 'Allow', Action: ['dynamodb:Query'], Resource: [JSON.stringify({ 'Fn::Join': ['', [resolve(gateway().schedules.table.tableArn), '/index/contact-schedules']] })] },
      { Effect: 'Allow', Action: ['dynamodb:Query'], Resource: [JSON.stringify({ 'Fn::Join': ['', [resolve(gateway().schedules.table.tableArn), '/index/unarmed-schedules']] })] },
      // Schedule items alone (its condition, in test/stack/schedules.test.ts): the sweeper takes back an orphaned schedule.
      { Effect: 'Allow', Action: ['dynamodb:DeleteItem'], Resource: [arn(gateway().schedules.table.tableArn)] },
      // The sweeper's Query of the sparse index, and the dead-letter door's mapping.
      { Effect: 'Allow', Action: ['dynamodb:Query'], Resource: [JSON.stringify({ 'Fn::Join': ['', [resolve(gateway().ledgerTable.tableArn), '/index/pending-slots']] })] },
      {
        Effect: 'Allow',
        Action: ['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'],
        Resource: [arn(gateway().deadLetterQueue.queueArn)],
      },
    ]);
  });

  it('TransferContact is granted on exactly the resource types the Service Authorization Reference lists for it', () => {
    // list_amazonconnect.html: connect:TransferContact takes instance*, contact*, contact-flow*; no queue, no user.
    const policies = all(synth.template, 'AWS::IAM::Policy');
    const grants = policies.flatMap((policy) => (policy.Properties as { PolicyDocument: { Statement: Record<string, unknown>[] } }).PolicyDocument.Statement);
    const transfer = grants.filter((grant) => asArray(grant.Action as string | string[]).includes('connect:TransferContact'));
    // One grant in each function's role.
    expect(transfer).toHaveLength(2);
    for (const grant of transfer) expect(asArray(grant.Resource as string | string[]).sort()).toEqual([base, `${base}/contact-flow/*`, `${base}/contact/*`]);
  });

  it('the ledger is append-only for the function: no action on it can delete an item (contract section 7)', () => {
    const ledgerArn = JSON.stringify(resolve(gateway().ledgerTable.tableArn));
    const onLedger = all(synth.template, 'AWS::IAM::Policy')
      .flatMap((policy) => (policy.Properties as { PolicyDocument: { Statement: Record<string, unknown>[] } }).PolicyDocument.Statement)
      .filter((statement) => asArray(statement.Resource as unknown).some((resource) => JSON.stringify(resource).includes(ledgerArn.slice(1, -1))))
      .flatMap((statement) => asArray(statement.Action as string | string[]));
    expect(onLedger.length).toBeGreaterThan(0);
    for (const action of ['dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:PartiQLDelete', 'dynamodb:*', 'dynamodb:DeleteTable']) {
      expect(onLedger).not.toContain(action);
    }
  });

  it('the function behind the API and the buffer grants AWS services alone in its resource policy; the direct function grants nobody', () => {
    const permissions = all(synth.template, 'AWS::Lambda::Permission').map((permission) => permission.Properties);
    const serviceFunction = resolve(gateway().gatewayFunction.functionArn);
    expect(permissions.length).toBeGreaterThan(0);
    for (const permission of permissions) {
      expect(permission?.FunctionName).toEqual(serviceFunction);
      expect(permission?.Principal).toMatch(/^[a-z]+\.amazonaws\.com$/);
      expect(permission?.SourceArn).toBeDefined();
    }
    const direct = resourceOf(gateway().directFunction);
    expect(direct.resource.Properties?.Handler).toBe('index.invoke');
    expect(resourceOf(gateway().gatewayFunction).resource.Properties?.Handler).toBe('index.handler');
    // The same bundle: one asset for both.
    expect(direct.resource.Properties?.Code).toEqual(resourceOf(gateway().gatewayFunction).resource.Properties?.Code);
  });

  it('the function may be invoked only by the stage\'s six methods (no test-invoke grant) and the sweep rule; events come through the buffer', () => {
    const permissions = all(synth.template, 'AWS::Lambda::Permission').map((permission) => permission.Properties);
    expect(permissions).toHaveLength(7);
    expect(permissions.filter((permission) => permission?.Principal === 'events.amazonaws.com').map((permission) => permission?.SourceArn)).toEqual([
      { 'Fn::GetAtt': [resourceOf(gateway().backstops.sweepRule).id, 'Arn'] },
    ]);
    const api = permissions.filter((permission) => permission?.Principal === 'apigateway.amazonaws.com').map((permission) => JSON.stringify(permission?.SourceArn));
    expect(api.map((arn) => /"\/([A-Z]+\/[^"]*)"\]\]\}$/.exec(arn)?.[1]).sort()).toEqual([
      'DELETE/contact/transfer/schedules/*',
      'GET/contact/transfer/schedules',
      'GET/contact/transfer/schedules/*',
      'GET/contact/transfers/*',
      'POST/contact/transfer',
      'POST/contact/transfer/schedules',
    ]);
    for (const arn of api) expect(arn).not.toContain('test-invoke-stage');
  });

  it('four roles: the two functions\', trusted by Lambda only, the event pipes\', trusted by Pipes in this account, and the scheduler\'s; no managed or inline policies', () => {
    const roles = synth.template.findResources('AWS::IAM::Role') as Record<string, { Properties: Record<string, unknown> }>;
    expect(Object.keys(roles).sort()).toEqual([functionRoleId(), directRoleId(), pipesRoleId(), logicalId(gateway().schedules.schedulerRole)].sort());
    expect(roles[directRoleId()]?.Properties.AssumeRolePolicyDocument).toEqual(roles[functionRoleId()]?.Properties.AssumeRolePolicyDocument);
    for (const role of Object.values(roles)) {
      expect(role.Properties).not.toHaveProperty('ManagedPolicyArns');
      expect(role.Properties).not.toHaveProperty('Policies');
    }
    expect(roles[functionRoleId()]?.Properties.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'lambda.amazonaws.com' } }],
    });
    expect(roles[pipesRoleId()]?.Properties.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'pipes.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } } },
      ],
    });
    synth.template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
    synth.template.resourceCountIs('AWS::ApiGateway::Account', 0);
  });

  it('no identity policy has a wildcard action, nor a "*" resource but for the one action that has no other', () => {
    for (const policy of all(synth.template, 'AWS::IAM::Policy')) {
      const { Statement } = (policy.Properties as { PolicyDocument: { Statement: Record<string, unknown>[] } }).PolicyDocument;
      for (const statement of Statement) {
        for (const action of asArray(statement.Action as string | string[])) expect(action).not.toContain('*');
        // dynamodb:ListStreams takes no resource-level permission (the pipes need it to find the ledger's stream).
        if (statement.Action === 'dynamodb:ListStreams') continue;
        for (const resource of asArray(statement.Resource)) expect(resource).not.toBe('*');
      }
    }
  });
});

describe('DynamoDB', () => {
  const table = (logicalIdOf: { node: { defaultChild?: unknown } }) => {
    const id = synth.stack.getLogicalId(logicalIdOf.node.defaultChild as never);
    return synth.template.toJSON().Resources[synth.stack.resolve(id) as string] as Record<string, unknown> & { Properties: Record<string, unknown> };
  };

  it('the idempotency table is keyed as lambda/tables.ts says, on demand with TTL, and goes with the stack', () => {
    const resource = table(gateway().idempotencyTable);
    expect(IDEMPOTENCY_TABLE).toEqual({ partitionKey: 'id', timeToLiveAttribute: 'expiration' });
    expect(resource.Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
    });
    expect(resource.Properties).not.toHaveProperty('PointInTimeRecoverySpecification');
    expect(resource.DeletionPolicy).toBe('Delete');
  });

  it('the ledger is keyed as lambda/tables.ts says, with TTL, point-in-time recovery, and retained', () => {
    const resource = table(gateway().ledgerTable);
    expect(LEDGER_TABLE).toEqual({ partitionKey: 'pk', sortKey: 'sk', timeToLiveAttribute: 'expiresAt' });
    expect(resource.Properties).toMatchObject({
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'pendingSlot', AttributeType: 'S' },
        { AttributeName: 'lastAttemptAt', AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
    });
    expect(resource.DeletionPolicy).toBe('Retain');
    expect(resource.UpdateReplacePolicy).toBe('Retain');
  });
});

describe('EventBridge door: a buffer drained at a bounded concurrency', () => {
  const queueProps = (queue: { node: { defaultChild?: unknown } }) => {
    const id = synth.stack.resolve(synth.stack.getLogicalId(queue.node.defaultChild as never)) as string;
    return { id, properties: (synth.template.toJSON().Resources[id] as { Properties: Record<string, unknown> }).Properties };
  };
  const policyOf = (queueId: string) => {
    const policy = all(synth.template, 'AWS::SQS::QueuePolicy').find((candidate) => JSON.stringify(candidate.Properties?.Queues) === JSON.stringify([{ Ref: queueId }]));
    return (policy?.Properties as { PolicyDocument: { Statement: Record<string, unknown>[] } }).PolicyDocument.Statement;
  };
  /**
   * Whatever IAM policies in the account allow: SendMessage is denied to any principal (an IAM user or role carries
   * neither key, and a negated condition holds where its key is absent) unless it comes from `sources`, from the
   * `principals` named, or (`sqsRedrive`) from SQS itself.
   */
  const onlySentBy = (sources: unknown[], { sqsRedrive, principals }: { sqsRedrive: boolean; principals?: unknown[] }) =>
    expect.objectContaining({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'sqs:SendMessage',
      Condition: {
        ArnNotEquals: { 'aws:SourceArn': sources, ...(principals && { 'aws:PrincipalArn': principals }) },
        ...(sqsRedrive && { StringNotEquals: { 'aws:PrincipalServiceName': 'sqs.amazonaws.com' } }),
      },
    });

  it('a rule on the default bus matches detail-type TransferContact from the configured sources and delivers into the buffer', () => {
    const { resource } = resourceOf(gateway().transferRule);
    expect(resource.Properties).not.toHaveProperty('EventBusName');
    expect(resource.Properties?.EventPattern).toEqual({ 'detail-type': ['TransferContact'], source: ['internal.contact-transfer'] });
    expect(resource.Properties?.Targets).toEqual([
      {
        Id: 'Target0',
        Arn: resolve(gateway().eventBuffer.queueArn),
        DeadLetterConfig: { Arn: resolve(gateway().deadLetterQueue.queueArn) },
        RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 4 },
      },
    ]);
    synth.template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 0);
  });

  it('the buffer is encrypted, TLS-only, writable by this rule and the scheduler role only, no queue\'s dead-letter queue, and dead-letters after at least an hour of retries with backoff', () => {
    const { id, properties } = queueProps(gateway().eventBuffer);
    expect(properties).toEqual({
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 120,
      MessageRetentionPeriod: 4 * 24 * 3600,
      RedrivePolicy: { deadLetterTargetArn: resolve(gateway().deadLetterQueue.queueArn), maxReceiveCount: expect.any(Number) },
      RedriveAllowPolicy: { redrivePermission: 'denyAll' },
    });
    // The waits between the first receive and the last: an hour even where every return was the quickest a record can
    // get (paced out, no jitter) and ChangeMessageVisibility failed so the visibility timeout capped it; well over an
    // hour for a failing record whose backoff was set.
    const { maxReceiveCount } = properties.RedrivePolicy as { maxReceiveCount: number };
    const receives = Array.from({ length: maxReceiveCount - 1 }, (_, index) => index + 1);
    const quickest = (receive: number) => Math.min(returnDelayFor(receive, { pacedOut: true, random: 0 }), returnDelayFor(receive, { random: 0 }), 120);
    expect(receives.reduce((sum, receive) => sum + quickest(receive), 0)).toBeGreaterThanOrEqual(3600);
    expect(receives.reduce((sum, receive) => sum + returnDelayFor(receive, { random: 0 }), 0)).toBeGreaterThanOrEqual(2 * 3600);
    const statements = policyOf(id);
    expect(statements).toHaveLength(3);
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    const { id: ruleId } = resourceOf(gateway().transferRule);
    const allow = statements.find((statement) => statement.Effect === 'Allow');
    expect(allow).toMatchObject({ Principal: { Service: 'events.amazonaws.com' }, Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } } });
    expect(asArray(allow?.Action as string[])).toContain('sqs:SendMessage');
    // A principal of the account with sqs:SendMessage in its own policy may not choose the source and id recorded:
    // only the rule's delivery and EventBridge Scheduler's role for the scheduled transfers get through.
    const schedulerRole = resolve(gateway().schedules.schedulerRole.roleArn);
    expect(statements).toContainEqual(onlySentBy([{ 'Fn::GetAtt': [ruleId, 'Arn'] }], { sqsRedrive: false, principals: [schedulerRole] }));
  });

  it('a role the app names to the gateway (as the scheduled transfers name EventBridge Scheduler\'s) may send to the buffer as well; nobody else is let through', () => {
    const named = synthesize({
      configure: (stack) => {
        const role = new Role(stack, 'SchedulerLike', { assumedBy: new ServicePrincipal('scheduler.amazonaws.com') });
        stack.gateway.allowEventBufferSender(role.roleArn);
      },
    });
    try {
      const bufferId = named.stack.resolve(named.stack.getLogicalId(named.stack.gateway.eventBuffer.node.defaultChild as never)) as string;
      const ruleId = named.stack.resolve(named.stack.getLogicalId(named.stack.gateway.transferRule.node.defaultChild as never)) as string;
      const policy = all(named.template, 'AWS::SQS::QueuePolicy').find((candidate) => JSON.stringify(candidate.Properties?.Queues) === JSON.stringify([{ Ref: bufferId }]));
      const statements = (policy?.Properties as { PolicyDocument: { Statement: Record<string, unknown>[] } }).PolicyDocument.Statement;
      const roleIds = Object.keys(named.template.findResources('AWS::IAM::Role', { Properties: { AssumeRolePolicyDocument: { Statement: [{ Principal: { Service: 'scheduler.amazonaws.com' } }] } } }));
      expect(roleIds).toHaveLength(2);
      const arnsOf = (ids: string[]) => ids.map((roleId) => ({ 'Fn::GetAtt': [roleId, 'Arn'] }));
      const appNamed = roleIds.filter((roleId) => roleId.startsWith('SchedulerLike'));
      const gatewayOwn = roleIds.filter((roleId) => !roleId.startsWith('SchedulerLike'));
      expect(statements).toContainEqual(onlySentBy([{ 'Fn::GetAtt': [ruleId, 'Arn'] }], { sqsRedrive: false, principals: arnsOf([...gatewayOwn, ...appNamed]) }));
      expect(statements.filter((statement) => statement.Effect === 'Deny')).toHaveLength(2);
    } finally {
      named.cleanup();
    }
  });

  it('the function drains the buffer in batches of 3, at most 2 at a time, with partial batch responses', () => {
    const { resource } = resourceOf(gateway().eventBufferMapping);
    expect(resource.Properties).toEqual({
      EventSourceArn: resolve(gateway().eventBuffer.queueArn),
      FunctionName: resolve(gateway().gatewayFunction.functionName),
      BatchSize: 3,
      ScalingConfig: { MaximumConcurrency: 2 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    // Created after the role's policy, so its first poll is allowed.
    expect(JSON.stringify(resource.DependsOn)).toMatch(/FunctionRole/);
  });

  it('the dead-letter queue is encrypted, SSL-only, keeps messages 14 days, and accepts delivery failures only from the rule and the buffer\'s redrive', () => {
    const { id, properties } = queueProps(gateway().deadLetterQueue);
    expect(properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    const statements = policyOf(id);
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    const { id: ruleId } = resourceOf(gateway().transferRule);
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Principal: { Service: 'events.amazonaws.com' },
        Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } },
      }),
    );
    expect(statements).toContainEqual(onlySentBy([{ 'Fn::GetAtt': [ruleId, 'Arn'] }, resolve(gateway().eventBuffer.queueArn)], { sqsRedrive: true }));
    expect(statements).toHaveLength(3);
  });
});

describe('transfer events (contract section 9)', () => {
  it('the ledger streams new and old images', () => {
    synth.template.hasResourceProperties('AWS::DynamoDB::Table', { StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' } });
  });

  it('one pipe per event type from the ledger stream to the default bus, with the filters and templates local mode renders', () => {
    const pipes = all(synth.template, 'AWS::Pipes::Pipe');
    expect(pipes).toHaveLength(3);
    const bus = `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/default`;
    for (const definition of TRANSFER_EVENT_PIPES) {
      const pipe = pipes.find((candidate) => JSON.stringify(candidate.Properties?.TargetParameters).includes(definition.detailType));
      expect(pipe?.Properties).toMatchObject({
        RoleArn: { 'Fn::GetAtt': [pipesRoleId(), 'Arn'] },
        Source: resolve(gateway().ledgerTable.tableStreamArn),
        Target: bus,
        SourceParameters: {
          DynamoDBStreamParameters: { StartingPosition: 'TRIM_HORIZON' },
          FilterCriteria: { Filters: definition.filters.map((pattern) => ({ Pattern: JSON.stringify(pattern) })) },
        },
        TargetParameters: {
          InputTemplate: definition.inputTemplate,
          EventBridgeEventBusParameters: { DetailType: definition.detailType, Source: 'contact-transfer-gateway' },
        },
      });
    }
  });

  it('a pipe sets aside an event it cannot deliver in a queue of its own instead of holding up the stream', () => {
    for (const pipe of all(synth.template, 'AWS::Pipes::Pipe')) {
      expect((pipe.Properties as { SourceParameters: { DynamoDBStreamParameters: unknown } }).SourceParameters.DynamoDBStreamParameters).toMatchObject({
        OnPartialBatchItemFailure: 'AUTOMATIC_BISECT',
        MaximumRetryAttempts: 10,
        DeadLetterConfig: { Arn: resolve(gateway().undeliveredTransferEvents.queueArn) },
      });
    }
  });

  it('the pipes may read the ledger stream and put events only on the default bus, only with the gateway\'s source', () => {
    const policy = all(synth.template, 'AWS::IAM::Policy').find((candidate) => JSON.stringify(candidate.Properties?.Roles) === JSON.stringify([{ Ref: pipesRoleId() }]));
    const statements = (policy?.Properties as { PolicyDocument: { Statement: Record<string, unknown>[] } }).PolicyDocument.Statement;
    expect(statements).toEqual([
      {
        Sid: 'ReadLedgerStream',
        Effect: 'Allow',
        Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
        Resource: resolve(gateway().ledgerTable.tableStreamArn),
      },
      { Sid: 'FindLedgerStream', Effect: 'Allow', Action: 'dynamodb:ListStreams', Resource: '*' },
      {
        Sid: 'UndeliveredTransferEvents',
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Resource: resolve(gateway().undeliveredTransferEvents.queueArn),
      },
      {
        Sid: 'PublishTransferEvents',
        Effect: 'Allow',
        Action: 'events:PutEvents',
        Resource: `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/default`,
        Condition: { StringEquals: { 'events:source': 'contact-transfer-gateway' } },
      },
    ]);
  });
});

describe('HTTPS door', () => {
  it('every method requires AWS_IAM on the one proxy integration: the transfer, the history and the four schedule routes, nothing else', () => {
    const methods = all(synth.template, 'AWS::ApiGateway::Method');
    for (const method of methods) expect(method.Properties).toMatchObject({ AuthorizationType: 'AWS_IAM', Integration: { Type: 'AWS_PROXY' } });
    expect(new Set(methods.map((method) => JSON.stringify((method.Properties?.Integration as { Uri: unknown }).Uri))).size).toBe(1);
    expect(methods.map(routeOf).sort()).toEqual([
      'DELETE /contact/transfer/schedules/{ScheduleId}',
      'GET /contact/transfer/schedules',
      'GET /contact/transfer/schedules/{ScheduleId}',
      'GET /contact/transfers/{ContactId}',
      'POST /contact/transfer',
      'POST /contact/transfer/schedules',
    ]);
    const history = methods.find((method) => routeOf(method) === 'GET /contact/transfers/{ContactId}')!;
    expect(history.Properties?.RequestParameters).toEqual({ 'method.request.querystring.MaxResults': false, 'method.request.querystring.NextToken': false });
  });

  it('the resource policy allows only the deploying account by default', () => {
    const { resource } = only(synth.template, 'AWS::ApiGateway::RestApi');
    expect(resource.Properties?.Policy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'AllowedAccounts',
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
          Action: 'execute-api:Invoke',
          Resource: METHOD_RESOURCES,
        },
      ],
    });
    expect(resource.Properties?.EndpointConfiguration).toEqual({ Types: ['REGIONAL'] });
  });

  it('validates the body against a closed model of contract section 2', () => {
    const [modelId, model] = Object.entries(synth.template.findResources('AWS::ApiGateway::Model', { Properties: { Name: 'TransferContactRequest' } }))[0]!;
    expect(model.Properties?.ContentType).toBe('application/json');
    expect(model.Properties?.Schema).toEqual({
      $schema: 'http://json-schema.org/draft-04/schema#',
      title: 'TransferContactRequest',
      type: 'object',
      additionalProperties: false,
      required: ['ContactId', 'ContactFlowId'],
      properties: {
        InstanceId: { type: 'string', minLength: 1, maxLength: 256 },
        ContactId: { type: 'string', minLength: 1, maxLength: 256 },
        ContactFlowId: { type: 'string', minLength: 1, maxLength: 500 },
        QueueId: { type: 'string', minLength: 1, maxLength: 256 },
        UserId: { type: 'string', minLength: 1, maxLength: 256 },
        ClientToken: { type: 'string', minLength: 1, maxLength: 500 },
        Note: { type: 'string', minLength: 1, maxLength: 256 },
        Conditions: {
          type: 'object',
          additionalProperties: false,
          properties: {
            InQueue: { type: 'string', minLength: 1, maxLength: 256 },
            NotWithAgent: { type: 'boolean', enum: [true] },
            QueuedForSeconds: { type: 'integer', minimum: 1, maximum: 2592000 },
          },
        },
      },
    });
    const { id: validatorId, resource: validator } = only(synth.template, 'AWS::ApiGateway::RequestValidator');
    expect(validator.Properties).toMatchObject({ ValidateRequestBody: true });
    synth.template.hasResourceProperties('AWS::ApiGateway::Method', {
      RequestValidatorId: { Ref: validatorId },
      RequestModels: { 'application/json': { Ref: modelId } },
    });
  });

  it('the stage is throttled to Connect\'s TransferContact quota and writes JSON access logs', () => {
    const { resource } = only(synth.template, 'AWS::ApiGateway::Stage');
    expect(resource.Properties?.MethodSettings).toEqual([
      expect.objectContaining({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 2, ThrottlingBurstLimit: 5 }),
    ]);
    const { DestinationArn, Format } = resource.Properties?.AccessLogSetting as { DestinationArn: unknown; Format: string };
    const accessLogs = all(synth.template, 'AWS::Logs::LogGroup');
    // The access logs and each function's own log group.
    expect(accessLogs).toHaveLength(3);
    // The log group's ARN without the trailing :* (feature flag logGroupDestinationArnWithoutWildcard).
    expect(JSON.stringify(DestinationArn)).toMatch(/log-group:","?\{"Ref":"\w*ApiAccessLogs\w*"\}\]\]\}$/);
    const line = JSON.parse(renderContext(Format)) as Record<string, unknown>;
    expect(line).toMatchObject({ requestId: 'ctx:requestId', userArn: 'ctx:identity.userArn', status: 'ctx:status', errorMessage: 'say "no"' });
  });

  describe('API Gateway\'s own errors are shaped like contract section 5', () => {
    const expectations: [responseType: string, status: string | undefined, type: string, reason: string][] = [
      ['ACCESS_DENIED', '403', 'AccessDeniedException', 'ACCESS_DENIED'],
      ['MISSING_AUTHENTICATION_TOKEN', '403', 'AccessDeniedException', 'MISSING_AUTHENTICATION_TOKEN'],
      ['INVALID_SIGNATURE', '403', 'AccessDeniedException', 'INVALID_SIGNATURE'],
      ['EXPIRED_TOKEN', '403', 'AccessDeniedException', 'EXPIRED_TOKEN'],
      ['UNAUTHORIZED', '403', 'AccessDeniedException', 'ACCESS_DENIED'],
      ['BAD_REQUEST_BODY', '400', 'InvalidRequestException', 'VALIDATION_FAILED'],
      ['BAD_REQUEST_PARAMETERS', '400', 'InvalidRequestException', 'VALIDATION_FAILED'],
      ['REQUEST_TOO_LARGE', '400', 'InvalidRequestException', 'VALIDATION_FAILED'],
      ['THROTTLED', '429', 'ThrottlingException', 'THROTTLED'],
      // Anything else keeps API Gateway's status; the reason is its response type.
      ['DEFAULT_4XX', undefined, 'InvalidRequestException', 'ctx:error.responseType'],
      ['DEFAULT_5XX', '500', 'InternalServiceException', 'INTERNAL_ERROR'],
    ];

    it('covers exactly these response types', () => {
      const types = all(synth.template, 'AWS::ApiGateway::GatewayResponse').map((response) => response.Properties?.ResponseType);
      expect(types.sort()).toEqual(expectations.map(([type]) => type).sort());
    });

    it.each(expectations)('%s: status %s, x-amzn-ErrorType %s, reason %s', (responseType, status, type, reason) => {
      const response = all(synth.template, 'AWS::ApiGateway::GatewayResponse').find((r) => r.Properties?.ResponseType === responseType)!;
      expect(response.Properties?.StatusCode).toBe(status);
      expect(response.Properties?.ResponseParameters).toEqual({ 'gatewayresponse.header.x-amzn-ErrorType': `'${type}'` });
      const template = (response.Properties?.ResponseTemplates as Record<string, string>)['application/json']!;
      const body = JSON.parse(renderContext(template)) as Record<string, unknown>;
      expect(Object.keys(body)).toEqual(['Type', 'ReasonCode', 'Message']);
      expect(body).toMatchObject({ Type: type, ReasonCode: reason });
      expect(typeof body.Message === 'string' && body.Message.length > 0).toBe(true);
    });

    it('a 5xx never passes API Gateway\'s own text through', () => {
      const response = all(synth.template, 'AWS::ApiGateway::GatewayResponse').find((r) => r.Properties?.ResponseType === 'DEFAULT_5XX')!;
      expect(JSON.stringify(response.Properties?.ResponseTemplates)).not.toContain('$context');
    });
  });
});

describe('outputs', () => {
  it('name the API endpoint, the transfer URL, the methods\' invoke ARNs, the function, both tables, the dead-letter queue, the event buffer and the pipes\' queue', () => {
    const outputs = synth.template.toJSON().Outputs as Record<string, { Value: unknown; Description?: string }>;
    expect(Object.keys(outputs).sort()).toEqual([
      'ApiEndpoint',
      'DeadLetterQueueUrl',
      'DirectFunctionName',
      'EventBufferUrl',
      'FunctionName',
      'HistoryInvokeArn',
      'IdempotencyTableName',
      'LedgerTableName',
      'ScheduleCancelInvokeArn',
      'ScheduleCreateInvokeArn',
      'ScheduleDeadLetterQueueUrl',
      'ScheduleGroupName',
      'ScheduleReadInvokeArns',
      'SchedulesTableName',
      'TransferInvokeArn',
      'TransferUrl',
      'UndeliveredTransferEventsUrl',
    ]);
    expect(outputs.DirectFunctionName!.Value).toEqual(resolve(gateway().directFunction.functionName));
    expect(outputs.UndeliveredTransferEventsUrl!.Value).toEqual(resolve(gateway().undeliveredTransferEvents.queueUrl));
    expect(outputs.EventBufferUrl!.Value).toEqual(resolve(gateway().eventBuffer.queueUrl));
    // What clients take: the stage URL, without the route they add themselves.
    expect(outputs.ApiEndpoint!.Value).toEqual(resolve(gateway().api.url));
    expect(JSON.stringify(outputs.ApiEndpoint!.Value)).not.toContain('/contact/transfer');
    expect(outputs.ApiEndpoint!.Description).toMatch(/endpoint to give the client/);
    expect(outputs.TransferUrl!.Value).toEqual(resolve(gateway().transferUrl));
    expect(JSON.stringify(outputs.TransferUrl!.Value)).toContain('/contact/transfer');
    expect(outputs.TransferUrl!.Description).toMatch(/not an endpoint for the client/);
    expect(outputs.FunctionName!.Value).toEqual(resolve(gateway().gatewayFunction.functionName));
    expect(outputs.IdempotencyTableName!.Value).toEqual(resolve(gateway().idempotencyTable.tableName));
    expect(outputs.LedgerTableName!.Value).toEqual(resolve(gateway().ledgerTable.tableName));
    expect(outputs.DeadLetterQueueUrl!.Value).toEqual(resolve(gateway().deadLetterQueue.queueUrl));
  });

  it('give a caller\'s identity policy the stage\'s two methods, each alone, as the resource policy names them', () => {
    const outputs = synth.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    // The stage's name by reference: the ARN exists once the stage does.
    const stage = resolve(gateway().api.deploymentStage.stageName);
    expect(stage).toEqual({ Ref: logicalId(gateway().api.deploymentStage) });
    const arnOf = (route: string) => ({ 'Fn::Join': ['', [`arn:aws:execute-api:${REGION}:${ACCOUNT}:`, resolve(gateway().api.restApiId), '/', stage, `/${route}`]] });
    expect(outputs.TransferInvokeArn!.Value).toEqual(resolve(gateway().transferInvokeArn));
    expect(outputs.TransferInvokeArn!.Value).toEqual(arnOf('POST/contact/transfer'));
    expect(outputs.HistoryInvokeArn!.Value).toEqual(arnOf('GET/contact/transfers/*'));
  });
});

describe('cdk-nag v3 (AwsSolutions)', () => {
  it('reports no unacknowledged violation, warnings included', () => {
    const report = new AwsSolutionsChecks().validateScope(synth.app);
    expect(report.violations.map((violation) => `${violation.ruleName} at ${violation.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('acknowledges exactly these findings, each with a reason', () => {
    const acknowledged: string[] = [];
    for (const construct of synth.app.node.findAll()) {
      for (const entry of construct.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, unknown>)) {
          expect(JSON.stringify(reason).length).toBeGreaterThan(80);
          acknowledged.push(`${construct.node.path} ${id.replace(/^annotation::/i, '')}`);
        }
      }
    }
    const gatewayPath = 'ContactTransferGateway/Gateway';
    expect(acknowledged.sort()).toEqual(
      [
        `${gatewayPath}/IdempotencyTable AwsSolutions-DDB3`,
        `${gatewayPath}/DeadLetterQueue AwsSolutions-SQS3`,
        `${gatewayPath}/UndeliveredTransferEvents AwsSolutions-SQS3`,
        `${gatewayPath}/Schedules/DeadLetterQueue AwsSolutions-SQS3`,
        `${gatewayPath}/FunctionRole AwsSolutions-IAM5[Resource::arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/${gateway().schedules.scheduleGroup.scheduleGroupName}/*]`,
        `${gatewayPath}/EventPipesRole AwsSolutions-IAM5[Resource::*]`,
        `${gatewayPath}/Function AwsSolutions-L1`,
        `${gatewayPath}/DirectFunction AwsSolutions-L1`,
        ...['FunctionRole', 'DirectFunctionRole'].flatMap((role) =>
          ['contact', 'contact-flow', 'queue', 'agent'].map((kind) => `${gatewayPath}/${role} AwsSolutions-IAM5[Resource::${INSTANCE_ARN}/${kind}/*]`),
        ),
        `${gatewayPath}/Api/DeploymentStage.prod AwsSolutions-APIG3`,
        `${gatewayPath}/Api/DeploymentStage.prod AwsSolutions-APIG6`,
        `${gatewayPath}/Api/Default/contact/transfer/POST AwsSolutions-COG4`,
        `${gatewayPath}/Api/Default/contact/transfers/{ContactId}/GET AwsSolutions-COG4`,
        ...['schedules/POST', 'schedules/GET', 'schedules/{ScheduleId}/GET', 'schedules/{ScheduleId}/DELETE'].map(
          (method) => `${gatewayPath}/Api/Default/contact/transfer/${method} AwsSolutions-COG4`,
        ),
      ].sort(),
    );
  });

  it('is not vacuous: the same check does flag an unencrypted queue', () => {
    const probe = new Stack(new App({ outdir: path.join(synth.app.outdir, 'nag-probe') }), 'NagProbe');
    new Queue(probe, 'Plain', { encryption: QueueEncryption.UNENCRYPTED });
    const rules = new AwsSolutionsChecks().validateScope(probe).violations.map((violation) => violation.ruleName);
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-SQS2', 'AwsSolutions-SQS4']));
  });
});

/**
 * Substitutes API Gateway's `$context` variables the way API Gateway does: `messageString` and
 * `validationErrorString` are inserted JSON-escaped, the rest as plain text. A template that is not valid JSON
 * after substitution fails JSON.parse in the caller.
 */
function renderContext(template: string): string {
  return template
    .replaceAll('$context.error.messageString', JSON.stringify('say "no"'))
    .replaceAll('$context.error.validationErrorString', '[object has missing required properties ([\\"ContactId\\"])]')
    .replace(/\$context\.([A-Za-z.]+)/g, (_, name: string) => `ctx:${name}`);
}
