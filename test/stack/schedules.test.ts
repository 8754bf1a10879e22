import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEDULE_AHEAD_SECONDS } from '../../lambda/domain/schedule';
import { SCHEDULES_CONTACT_INDEX, SCHEDULES_TABLE, SCHEDULES_UNARMED_INDEX } from '../../lambda/tables';
import { FAILED_PIPE, SKIPPED_PIPE, TRANSFERRED_PIPE } from '../../lib/transfer-events';
import { passes, renderTemplate } from '../../local/event-pipes';
import type { StreamRecord } from '../../local/event-pipes';
import { ACCOUNT, REGION, all, asArray, functionWithHandler, synthesize } from './synth';
import type { Synthesized } from './synth';

type Statement = Record<string, unknown>;
type Props = Record<string, unknown>;

let synth: Synthesized;
let resolve: (value: unknown) => unknown;
beforeAll(() => {
  synth = synthesize();
  resolve = (value) => synth.stack.resolve(value);
});
afterAll(() => synth?.cleanup());

const schedules = () => synth.stack.gateway.schedules;
const resources = () => synth.template.toJSON().Resources as Record<string, { Type: string; Properties: Props; DeletionPolicy?: string }>;
const idOf = (construct: { node: { defaultChild?: unknown } }) => resolve(synth.stack.getLogicalId(construct.node.defaultChild as never)) as string;
const groupName = () => schedules().scheduleGroup.scheduleGroupName;
const schedulesInGroup = () => `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/${groupName()}/*`;

/** Every statement of the identity policies attached to a role. */
function statementsOfRole(roleId: string): Statement[] {
  return all(synth.template, 'AWS::IAM::Policy')
    .filter((policy) => asArray(policy.Properties?.Roles as unknown).some((role) => JSON.stringify(role) === JSON.stringify({ Ref: roleId })))
    .flatMap((policy) => (policy.Properties as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement);
}
const roleIdOf = (handler: string) => (functionWithHandler(synth.template, handler).resource.Properties as { Role: { 'Fn::GetAtt': [string, string] } }).Role['Fn::GetAtt'][0];
const everyStatement = () => all(synth.template, 'AWS::IAM::Policy').flatMap((policy) => (policy.Properties as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement);

describe('the schedule group and the scheduler role', () => {
  it('the stack owns one schedule group, deleted with the stack so no schedule outlives the buffer it fires into', () => {
    const groups = Object.values(resources()).filter((resource) => resource.Type === 'AWS::Scheduler::ScheduleGroup');
    expect(groups).toHaveLength(1);
    expect(groups[0]?.Properties).toEqual({ Name: groupName() });
    expect(groups[0]?.DeletionPolicy).toBe('Delete');
    expect(groupName()).toMatch(/^[0-9a-zA-Z-_.]{1,64}$/);
  });

  it('the scheduler role is trusted by EventBridge Scheduler alone, for schedules of this account\'s group (confused-deputy prevention)', () => {
    const role = resources()[idOf(schedules().schedulerRole)]!;
    expect(role.Properties.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: { Service: 'scheduler.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT }, ArnEquals: { 'aws:SourceArn': resolve(schedules().scheduleGroup.scheduleGroupArn) } },
        },
      ],
    });
    expect(role.Properties).not.toHaveProperty('ManagedPolicyArns');
    expect(role.Properties).not.toHaveProperty('Policies');
  });

  it('the scheduler role may only send to the event buffer and to its own dead-letter queue', () => {
    expect(statementsOfRole(idOf(schedules().schedulerRole))).toEqual([
      { Sid: 'DeliverFiredSchedules', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: resolve(synth.stack.gateway.eventBuffer.queueArn) },
      { Sid: 'SetAsideUndelivered', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: resolve(schedules().deadLetterQueue.queueArn) },
    ]);
  });

  it('the dead-letter queue is encrypted, TLS-only, keeps messages 14 days, and takes messages from the scheduler role alone', () => {
    const queueId = idOf(schedules().deadLetterQueue);
    expect(resources()[queueId]?.Properties).toEqual({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    const policy = all(synth.template, 'AWS::SQS::QueuePolicy').find((candidate) => JSON.stringify(candidate.Properties?.Queues) === JSON.stringify([{ Ref: queueId }]));
    const statements = (policy?.Properties as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement;
    expect(statements).toEqual([
      expect.objectContaining({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      {
        Sid: 'OnlySchedulerSends',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'sqs:SendMessage',
        Resource: resolve(schedules().deadLetterQueue.queueArn),
        // The role's ARN, which aws:PrincipalArn carries for every session Scheduler assumes it with.
        Condition: { ArnNotEquals: { 'aws:PrincipalArn': resolve(schedules().schedulerRole.roleArn) } },
      },
    ]);
  });
});

describe('what the service function may do with schedules', () => {
  const serviceStatements = () => statementsOfRole(roleIdOf('index.handler'));
  const withAction = (statements: Statement[], prefix: string) => statements.filter((statement) => asArray(statement.Action as string | string[]).some((action) => action.startsWith(prefix)));

  it('creates and deletes schedules only in the stack\'s own group: no GetSchedule, no update, no other group', () => {
    expect(withAction(serviceStatements(), 'scheduler:')).toEqual([
      { Sid: 'SchedulesInOwnGroup', Effect: 'Allow', Action: ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule'], Resource: schedulesInGroup() },
    ]);
  });

  it('passes only the scheduler role, and only to EventBridge Scheduler', () => {
    expect(withAction(serviceStatements(), 'iam:')).toEqual([
      {
        Sid: 'PassSchedulerRole',
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: resolve(schedules().schedulerRole.roleArn),
        Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      },
    ]);
  });

  it('reads and writes the schedules table, queries its two indexes, and deletes schedule items alone, never a contact\'s counter', () => {
    const table = resolve(schedules().table.tableArn);
    const onTable = serviceStatements().filter((statement) => JSON.stringify(statement.Resource).includes(JSON.stringify(table)));
    expect(onTable).toEqual([
      { Sid: 'ScheduleRecords', Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], Resource: table },
      {
        Sid: 'ContactSchedules',
        Effect: 'Allow',
        Action: 'dynamodb:Query',
        Resource: { 'Fn::Join': ['', [table, `/index/${SCHEDULES_CONTACT_INDEX.indexName}`]] },
      },
      {
        Sid: 'UnarmedSchedules',
        Effect: 'Allow',
        Action: 'dynamodb:Query',
        Resource: { 'Fn::Join': ['', [table, `/index/${SCHEDULES_UNARMED_INDEX.indexName}`]] },
      },
      {
        Sid: 'TakeBackOrphanedSchedules',
        Effect: 'Allow',
        Action: 'dynamodb:DeleteItem',
        Resource: table,
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['SCHEDULE#*'] } },
      },
    ]);
  });

  it('the direct-invocation function gets none of it: no scheduler action, no PassRole, not the schedules table', () => {
    const direct = JSON.stringify(statementsOfRole(roleIdOf('index.invoke')));
    expect(direct).not.toContain('scheduler:');
    expect(direct).not.toContain('iam:');
    expect(direct).not.toContain(idOf(schedules().table));
    const environment = (functionWithHandler(synth.template, 'index.invoke').resource.Properties as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables;
    expect(Object.keys(environment).filter((name) => name.startsWith('SCHEDULE'))).toEqual([]);
  });

  it('nothing in the stack may pass a role unconditionally, or touch schedules outside the group', () => {
    for (const statement of everyStatement()) {
      const actions = asArray(statement.Action as string | string[]);
      if (actions.includes('iam:PassRole')) expect(statement.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });
      if (actions.some((action) => action.startsWith('scheduler:'))) expect(asArray(statement.Resource)).toEqual([schedulesInGroup()]);
    }
  });

  it('tells the function its table, group, role, target and dead-letter queue', () => {
    const environment = (functionWithHandler(synth.template, 'index.handler').resource.Properties as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables;
    expect(environment).toMatchObject({
      SCHEDULES_TABLE: resolve(schedules().table.tableName),
      SCHEDULE_GROUP_NAME: groupName(),
      SCHEDULER_ROLE_ARN: resolve(schedules().schedulerRole.roleArn),
      SCHEDULE_TARGET_ARN: resolve(synth.stack.gateway.eventBuffer.queueArn),
      SCHEDULE_DEAD_LETTER_ARN: resolve(schedules().deadLetterQueue.queueArn),
    });
  });
});

describe('the schedules table', () => {
  it('is keyed as lambda/tables.ts says, with the contact index and the sparse index of unarmed schedules, TTL and point-in-time recovery, and retained', () => {
    const table = resources()[idOf(schedules().table)]!;
    expect(table.Properties).toMatchObject({
      KeySchema: [{ AttributeName: SCHEDULES_TABLE.partitionKey, KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: SCHEDULES_CONTACT_INDEX.indexName,
          KeySchema: [
            { AttributeName: SCHEDULES_CONTACT_INDEX.partitionKey, KeyType: 'HASH' },
            { AttributeName: SCHEDULES_CONTACT_INDEX.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
        {
          IndexName: SCHEDULES_UNARMED_INDEX.indexName,
          KeySchema: [
            { AttributeName: SCHEDULES_UNARMED_INDEX.partitionKey, KeyType: 'HASH' },
            { AttributeName: SCHEDULES_UNARMED_INDEX.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['scheduleId', 'contactId'] },
        },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: SCHEDULES_TABLE.timeToLiveAttribute, Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
    });
    expect(table.DeletionPolicy).toBe('Retain');
  });
});

describe('the schedule routes', () => {
  const methods = () => all(synth.template, 'AWS::ApiGateway::Method').filter((method) => JSON.stringify(method.Properties?.ResourceId).includes('schedules'));

  it('four methods, each AWS_IAM on the proxy integration the transfer route uses', () => {
    const serviceFunctionUri = {
      'Fn::Join': ['', [`arn:aws:apigateway:${REGION}:lambda:path/2015-03-31/functions/`, resolve(synth.stack.gateway.gatewayFunction.functionArn), '/invocations']],
    };
    expect(methods().map((method) => method.Properties?.HttpMethod).sort()).toEqual(['DELETE', 'GET', 'GET', 'POST']);
    for (const method of methods()) {
      expect(method.Properties).toMatchObject({ AuthorizationType: 'AWS_IAM', Integration: { Type: 'AWS_PROXY', Uri: serviceFunctionUri } });
    }
  });

  it('listing requires ContactId at the edge; create checks its body against the schedule model', () => {
    const [post] = methods().filter((method) => method.Properties?.HttpMethod === 'POST');
    const list = methods().find((method) => method.Properties?.HttpMethod === 'GET' && method.Properties.RequestParameters !== undefined);
    expect(list?.Properties?.RequestParameters).toEqual({
      'method.request.querystring.ContactId': true,
      'method.request.querystring.MaxResults': false,
      'method.request.querystring.NextToken': false,
    });
    const [modelId, model] = Object.entries(synth.template.findResources('AWS::ApiGateway::Model', { Properties: { Name: 'ScheduleTransferRequest' } }))[0]!;
    expect(post?.Properties?.RequestModels).toEqual({ 'application/json': { Ref: modelId } });
    expect(post?.Properties?.RequestValidatorId).toBeDefined();
    const schema = (model as { Properties: { Schema: { required: string[]; additionalProperties: boolean; properties: Record<string, unknown> } } }).Properties.Schema;
    // Both timings are optional at the edge; exactly one of them is the function's check.
    expect(schema.required).toEqual(['ContactId', 'ContactFlowId']);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.At).toEqual({ type: 'string' });
    expect(schema.properties.AfterSeconds).toEqual({ type: 'integer', minimum: SCHEDULE_AHEAD_SECONDS.min, maximum: SCHEDULE_AHEAD_SECONDS.max });
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['ContactId', 'ContactFlowId', 'Conditions']));
  });

  it('gives a caller\'s identity policy create, read and cancel each alone, on the stage', () => {
    const stage = resolve(synth.stack.gateway.api.deploymentStage.stageName);
    const arnOf = (route: string) => ({ 'Fn::Join': ['', [`arn:aws:execute-api:${REGION}:${ACCOUNT}:`, resolve(synth.stack.gateway.api.restApiId), '/', stage, `/${route}`]] });
    expect(resolve(synth.stack.gateway.scheduleInvokeArns)).toEqual({
      create: arnOf('POST/contact/transfer/schedules'),
      read: [arnOf('GET/contact/transfer/schedules'), arnOf('GET/contact/transfer/schedules/*')],
      cancel: arnOf('DELETE/contact/transfer/schedules/*'),
    });
    const outputs = synth.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.ScheduleCreateInvokeArn?.Value).toEqual(arnOf('POST/contact/transfer/schedules'));
    expect(outputs.ScheduleCancelInvokeArn?.Value).toEqual(arnOf('DELETE/contact/transfer/schedules/*'));
    expect(outputs.ScheduleReadInvokeArns?.Value).toEqual({ 'Fn::Join': [',', [arnOf('GET/contact/transfer/schedules'), arnOf('GET/contact/transfer/schedules/*')]] });
  });
});

describe('when a fired schedule is not delivered', () => {
  const alarm = () => all(synth.template, 'AWS::CloudWatch::Alarm').map((resource) => resource.Properties ?? {}).find((p) => String(p.AlarmName).endsWith('-ScheduledTransfersUndelivered'))!;

  it('one alarm pages on Scheduler giving up on a firing in the group, and stays while one waits in the dead-letter queue', () => {
    expect(alarm()).toMatchObject({ Threshold: 1, EvaluationPeriods: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' });
    const metrics = asArray(alarm().Metrics as Props[]).flatMap((query) => (query.MetricStat ? [(query.MetricStat as { Metric: Props }).Metric] : []));
    expect(metrics.filter((metric) => metric.Namespace === 'AWS/Scheduler')).toEqual(
      ['InvocationsSentToDeadLetterCount', 'InvocationDroppedCount', 'InvocationsFailedToBeSentToDeadLetterCount'].map((MetricName) => ({
        Namespace: 'AWS/Scheduler',
        MetricName,
        Dimensions: [{ Name: 'ScheduleGroup', Value: groupName() }],
      })),
    );
    expect(metrics.filter((metric) => metric.Namespace === 'AWS/SQS')).toEqual([
      {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [idOf(schedules().deadLetterQueue), 'QueueName'] } }],
      },
    ]);
    expect(String(alarm().AlarmDescription)).toContain('docs/operations.md, "Undelivered schedules"');
  });

  it('the dashboard shows Scheduler\'s deliveries for the group and the dead-letter queue beside the other widgets', () => {
    const body = (Object.values(resources()).find((resource) => resource.Type === 'AWS::CloudWatch::Dashboard')?.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
    const text = body[1].map((part) => (typeof part === 'string' ? part : 'REF')).join('');
    const widgets = (JSON.parse(text) as { widgets: { properties: { title?: string; metrics?: unknown[] } }[] }).widgets;
    const deliveries = JSON.stringify(widgets.find((widget) => widget.properties.title === 'Scheduled transfers: deliveries')?.properties.metrics);
    for (const metric of ['InvocationAttemptCount', 'TargetErrorCount', 'InvocationsSentToDeadLetterCount', 'InvocationDroppedCount']) {
      expect(deliveries).toContain(`"AWS/Scheduler","${metric}","ScheduleGroup","${groupName()}"`);
    }
    expect(deliveries).toContain('ApproximateNumberOfMessagesVisible');
    const alarmId = Object.entries(resources()).find(([, resource]) => String(resource.Properties.AlarmName).endsWith('-ScheduledTransfersUndelivered'))?.[0];
    expect(JSON.stringify(body[1])).toContain(JSON.stringify({ 'Fn::GetAtt': [alarmId, 'Arn'] }));
  });
});

describe('the transfer events of a scheduled transfer', () => {
  const scheduleId = `sch-${'0'.repeat(31)}1`;
  const insert = (image: StreamRecord['dynamodb']['NewImage']): StreamRecord => ({ eventName: 'INSERT', dynamodb: { Keys: {}, NewImage: { ...image, scheduleId: { S: scheduleId } } } });
  const records = {
    transferred: insert({ pk: { S: 'TREE#t' }, sk: { S: 'TRANSFER#0001' }, status: { S: 'TRANSFERRED' }, transferNumber: { N: '1' } }),
    failed: insert({ pk: { S: 'FAILURE#e' }, sk: { S: 'FAILURE' }, status: { S: 'REJECTED' } }),
    skipped: insert({ pk: { S: 'KEY#k' }, sk: { S: 'INTENT' }, status: { S: 'SKIPPED' } }),
  };

  it.each([
    ['Contact Transferred', TRANSFERRED_PIPE, records.transferred],
    ['Contact Transfer Failed', FAILED_PIPE, records.failed],
    ['Contact Transfer Skipped', SKIPPED_PIPE, records.skipped],
  ] as const)('%s names the ScheduleId its ledger record carries, as the pipe renders it', (_, pipe, record) => {
    expect(passes(pipe, record)).toBe(true);
    expect((JSON.parse(renderTemplate(pipe.inputTemplate, record)) as { ScheduleId?: string }).ScheduleId).toBe(scheduleId);
  });
});
