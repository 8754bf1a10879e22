import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECT_OPERATIONS } from '../../lambda/metric-names';
import { INVOCATION_CRASH_LINES } from '../../lib/gateway-monitoring';
import { ACCOUNT, all, asArray, functionWithHandler, only, synthesize, serviceFunction } from './synth';
import type { Synthesized } from './synth';

type Resource = ReturnType<typeof all>[number];
type Props = Record<string, unknown>;

const props = (resource: Resource): Props => (resource.Properties ?? {}) as Props;
const nagViolations = (synth: Synthesized): string[] =>
  new AwsSolutionsChecks().validateScope(synth.app).violations.map((violation) => `${violation.ruleName} at ${violation.violatingResources.map((r) => r.constructPath).join(', ')}`);

/** The alarm whose name ends in `-<suffix>`, failing loudly when there is none. */
function alarm(synth: Synthesized, suffix: string): Props {
  const found = all(synth.template, 'AWS::CloudWatch::Alarm').map(props).find((p) => String(p.AlarmName).endsWith(`-${suffix}`));
  if (!found) throw new Error(`no alarm ${suffix}`);
  return found;
}

/** The metrics an alarm reads: its own metric, or those its math expression sums. */
function alarmMetrics(properties: Props): { MetricName: string; Namespace: string; Dimensions: { Name: string; Value: unknown }[] }[] {
  if (properties.MetricName !== undefined) return [properties as never];
  return asArray(properties.Metrics as Props[]).flatMap((query) => (query.MetricStat ? [(query.MetricStat as { Metric: never }).Metric] : []));
}

describe('default operations', () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthesize();
  });
  afterAll(() => synth?.cleanup());

  const topicRef = () => ({ Ref: only(synth.template, 'AWS::SNS::Topic').id });

  it('creates an alarm topic encrypted with a rotated customer managed key CloudWatch may use, TLS only', () => {
    const topic = only(synth.template, 'AWS::SNS::Topic');
    const key = only(synth.template, 'AWS::KMS::Key');
    expect(props(topic.resource).KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [key.id, 'Arn'] });
    expect(props(key.resource).EnableKeyRotation).toBe(true);
    const keyStatements = (props(key.resource).KeyPolicy as { Statement: Props[] }).Statement;
    expect(keyStatements).toContainEqual(
      expect.objectContaining({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] }),
    );
    const policy = only(synth.template, 'AWS::SNS::TopicPolicy');
    const statements = (props(policy.resource).PolicyDocument as { Statement: Props[] }).Statement;
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    // A topic policy replaces SNS's default one: without this statement CloudWatch could not publish at all.
    const ownAlarms = {
      StringEquals: { 'aws:SourceAccount': ACCOUNT },
      ArnLike: { 'aws:SourceArn': `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:ContactTransferGateway-Gateway-*` },
    };
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish', Resource: topicRef(), Condition: ownAlarms }),
    );
    expect(keyStatements).toContainEqual(expect.objectContaining({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Condition: ownAlarms }));
  });

  it('has one alarm per thing an operator must act on, each notifying the topic on alarm and recovery', () => {
    const alarms = all(synth.template, 'AWS::CloudWatch::Alarm').map(props);
    expect(alarms.map((p) => String(p.AlarmName).replace(/^.*-/, '')).sort()).toEqual(
      [
        'Api5xx',
        'BufferedRequestsWaiting',
        'ConnectThrottlesSustained',
        'DeadLettersUnanswered',
        'DirectFunctionCrashes',
        'DirectFunctionThrottled',
        'FunctionErrors',
        'FunctionThrottled',
        'ScheduledTransfersUndelivered',
        'TransferEventsUndelivered',
        'TransfersFailing',
      ].sort(),
    );
    for (const p of alarms) {
      expect(p.AlarmActions).toEqual([topicRef()]);
      expect(p.OKActions).toEqual([topicRef()]);
      expect(p.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
      expect(p.TreatMissingData).toBe('notBreaching');
      expect(String(p.AlarmDescription).length).toBeGreaterThan(80);
    }
  });

  it('alarms on a dead letter that stays, in flight or visible, longer than the door answers one (the door keeps the queue read)', () => {
    const p = alarm(synth, 'DeadLettersUnanswered');
    const deadLetterQueueId = synth.stack.resolve(synth.stack.getLogicalId(synth.stack.gateway.deadLetterQueue.node.defaultChild as never)) as string;
    const read = alarmMetrics(p);
    expect(read.map((m) => m.MetricName).sort()).toEqual(['ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesVisible']);
    for (const m of read) {
      expect(m.Namespace).toBe('AWS/SQS');
      expect(m.Dimensions).toEqual([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [deadLetterQueueId, 'QueueName'] } }]);
    }
    // 10 s timeout + 60 s margin + a 5-minute sweep + the door's 300 s visibility = 670 s: every one of 4 periods.
    expect(p).toMatchObject({ Threshold: 1, EvaluationPeriods: 4, DatapointsToAlarm: 4 });
    expect(String(p.AlarmDescription)).toContain('docs/operations.md, "Dead letters"');
  });

  it('alarms when the oldest buffered event has waited bufferAgeAlarmSeconds (900 s by default)', () => {
    const p = alarm(synth, 'BufferedRequestsWaiting');
    const bufferId = synth.stack.resolve(synth.stack.getLogicalId(synth.stack.gateway.eventBuffer.node.defaultChild as never)) as string;
    expect(p).toMatchObject({ Namespace: 'AWS/SQS', MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 900 });
    expect(p.Dimensions).toEqual([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [bufferId, 'QueueName'] } }]);
  });

  it('sums TransfersFailed over the failures an operator must look into, and ConnectThrottles over every operation', () => {
    const failing = alarm(synth, 'TransfersFailing');
    expect(failing).toMatchObject({ Threshold: 1, EvaluationPeriods: 3, DatapointsToAlarm: 2 });
    const failed = alarmMetrics(failing);
    expect(failed.every((m) => m.Namespace === 'ContactTransferGateway' && m.MetricName === 'TransfersFailed')).toBe(true);
    // Throttling pages once, through ConnectThrottlesSustained; an in-progress duplicate is at-least-once delivery at work.
    expect(failed.map((m) => m.Dimensions)).toEqual(
      ['UPSTREAM_FAILURE', 'INTERNAL_ERROR'].map((reason) => [
        { Name: 'ReasonCode', Value: reason },
        { Name: 'service', Value: 'ContactTransferGateway-Gateway' },
      ]),
    );

    const throttles = alarm(synth, 'ConnectThrottlesSustained');
    expect(throttles).toMatchObject({ Threshold: 1, EvaluationPeriods: 3, DatapointsToAlarm: 3 });
    expect(alarmMetrics(throttles).map((m) => m.Dimensions.find((d) => d.Name === 'Operation')?.Value)).toEqual([...CONNECT_OPERATIONS]);
    expect(alarmMetrics(throttles).every((m) => m.Namespace === 'ContactTransferGateway' && m.MetricName === 'ConnectThrottles')).toBe(true);
    expect(alarmMetrics(throttles).every((m) => m.Dimensions.some((d) => d.Name === 'service' && d.Value === 'ContactTransferGateway-Gateway'))).toBe(true);
    // Whoever is paged learns where the rate the gateway settled on is shown.
    expect(throttles.AlarmDescription).toContain('PacedTransferRate');
    expect(throttles.AlarmDescription).toContain('"Connect throttles and the rate settled on"');
  });

  it('watches the function\'s errors and throttles and the API\'s 5xx', () => {
    const fn = { Name: 'FunctionName', Value: { Ref: serviceFunction(synth.template).id } };
    expect(alarm(synth, 'FunctionErrors')).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Errors', Statistic: 'Sum', Dimensions: [fn] });
    expect(alarm(synth, 'FunctionThrottled')).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Throttles', Statistic: 'Sum', Dimensions: [fn] });
    expect(alarm(synth, 'Api5xx')).toMatchObject({ Namespace: 'AWS/ApiGateway', MetricName: '5XXError', Statistic: 'Sum' });
  });

  it("watches the direct function's throttles and the invocations Lambda ended without its answer, not the requests it rejects", () => {
    const direct = functionWithHandler(synth.template, 'index.invoke');
    expect(alarm(synth, 'DirectFunctionThrottled')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Throttles',
      Statistic: 'Sum',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: direct.id } }],
    });
    // Its Errors metric counts every rejected request (an error by design), so no alarm reads it.
    const directMetrics = all(synth.template, 'AWS::CloudWatch::Alarm').map(props).flatMap(alarmMetrics);
    expect(directMetrics.filter((m) => m.MetricName === 'Errors' && JSON.stringify(m.Dimensions).includes(direct.id))).toEqual([]);

    const crashes = alarm(synth, 'DirectFunctionCrashes');
    expect(crashes).toMatchObject({ Namespace: 'ContactTransferGateway', MetricName: 'DirectFunctionCrashes-ContactTransferGateway-Gateway', Statistic: 'Sum', Threshold: 1 });
    const filter = props(only(synth.template, 'AWS::Logs::MetricFilter').resource);
    expect(filter.LogGroupName).toEqual({ Ref: (props(direct.resource).LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref });
    expect(filter.MetricTransformations).toEqual([
      expect.objectContaining({ MetricNamespace: 'ContactTransferGateway', MetricName: 'DirectFunctionCrashes-ContactTransferGateway-Gateway', MetricValue: '1' }),
    ]);
    // Lambda's own lines for a timeout and an exited runtime, each a term of its own; a thrown rejection writes none.
    expect(filter.FilterPattern).toBe(INVOCATION_CRASH_LINES.map((line) => `?"${line}"`).join(' '));
    expect(INVOCATION_CRASH_LINES).toEqual(['Task timed out', 'Runtime exited', 'Process exited before completing request']);
  });

  it('has a dashboard of outcomes by reason, latency percentiles, Connect throttles and the dead-letter queue', () => {
    // The body is a Fn::Join around Region and resource references; those become placeholders so it parses as JSON.
    const body = props(only(synth.template, 'AWS::CloudWatch::Dashboard').resource).DashboardBody as { 'Fn::Join': [string, unknown[]] };
    const text = body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'REF')).join('');
    const widgets = (JSON.parse(text) as { widgets: { properties: { title?: string; metrics?: unknown[] } }[] }).widgets;
    const titled = (title: string) => JSON.stringify(widgets.find((widget) => widget.properties.title === title)?.properties.metrics ?? []);
    const search = (metric: string, dimension: string) =>
      JSON.stringify(`SEARCH('{ContactTransferGateway,${dimension},service} MetricName="${metric}" service="ContactTransferGateway-Gateway"', 'Sum', 300)`);
    expect(titled('Transfers by outcome')).toContain('TransfersSucceeded');
    expect(titled('Transfers by outcome')).toContain('TransfersReplayed');
    expect(titled('Transfers by outcome')).toContain(search('TransfersRejected', 'ReasonCode'));
    expect(titled('Transfers by outcome')).toContain(search('TransfersFailed', 'ReasonCode'));
    const throttles = widgets.find((widget) => widget.properties.title === 'Connect throttles and the rate settled on')?.properties.metrics ?? [];
    expect(JSON.stringify(throttles)).toContain(search('ConnectThrottles', 'Operation'));
    // The rate the function publishes, on the right axis: its lowest and highest in each period.
    const rates = throttles.filter((line) => JSON.stringify(line).includes('PacedTransferRate')).map((line) => (line as unknown[]).at(-1));
    expect(rates).toEqual([
      expect.objectContaining({ stat: 'Minimum', yAxis: 'right', label: expect.stringContaining('settled on') }),
      expect.objectContaining({ stat: 'Maximum', yAxis: 'right' }),
    ]);
    expect(JSON.stringify(throttles)).toContain('"ContactTransferGateway","PacedTransferRate","service","ContactTransferGateway-Gateway"');
    expect(titled('Latency (ms)')).toMatch(/p50.*p90.*p99/);
    expect(titled('Buffer and dead-letter queue')).toContain('ApproximateNumberOfMessagesVisible');
    // The monitoring's alarms, the direct function's included, show in the dashboard's alarm status.
    const statuses = widgets.find((widget) => widget.properties.title === 'Alarms')?.properties as { alarms?: unknown[] } | undefined;
    const { alarms } = synth.stack.gateway.monitoring;
    expect(alarms.map((shown) => shown.node.id)).toEqual(expect.arrayContaining(['DirectFunctionCrashes', 'DirectFunctionThrottled']));
    expect(statuses?.alarms).toHaveLength(alarms.length);
  });

  it('is not traced and the API is regional unless asked', () => {
    expect(props(serviceFunction(synth.template).resource)).not.toHaveProperty('TracingConfig');
    expect(props(only(synth.template, 'AWS::ApiGateway::Stage').resource).TracingEnabled).toBe(false);
    expect(props(only(synth.template, 'AWS::ApiGateway::RestApi').resource).EndpointConfiguration).toEqual({ Types: ['REGIONAL'] });
  });

  it('passes cdk-nag', () => {
    expect(nagViolations(synth)).toEqual([]);
  });
});

describe('operations with every knob set', () => {
  const topicArn = `arn:aws:sns:us-east-1:${ACCOUNT}:ops-alarms`;
  const endpoints = ['vpce-0123456789abcdef0', 'vpce-0fedcba9876543210'];
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthesize({
      context: { alarmTopicArn: topicArn, alarmEmail: 'oncall@example.com', tracing: 'true', vpcEndpointIds: endpoints.join(',') },
    });
  });
  afterAll(() => synth?.cleanup());

  it('notifies the given topic instead of creating one, and subscribes the address to it', () => {
    expect(all(synth.template, 'AWS::SNS::Topic')).toEqual([]);
    for (const p of all(synth.template, 'AWS::CloudWatch::Alarm').map(props)) expect(p.AlarmActions).toEqual([topicArn]);
    expect(props(only(synth.template, 'AWS::SNS::Subscription').resource)).toEqual({ Protocol: 'email', Endpoint: 'oncall@example.com', TopicArn: topicArn });
  });

  it('traces the function and the stage, granting only X-Ray\'s two write actions', () => {
    expect(props(serviceFunction(synth.template).resource).TracingConfig).toEqual({ Mode: 'Active' });
    expect(props(only(synth.template, 'AWS::ApiGateway::Stage').resource).TracingEnabled).toBe(true);
    const statements = all(synth.template, 'AWS::IAM::Policy').flatMap((policy) => (props(policy).PolicyDocument as { Statement: Props[] }).Statement);
    expect(statements).toContainEqual(expect.objectContaining({ Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Resource: '*' }));
  });

  it('makes the API private to the listed interface endpoints', () => {
    const api = props(only(synth.template, 'AWS::ApiGateway::RestApi').resource);
    expect(api.EndpointConfiguration).toEqual({ Types: ['PRIVATE'], VpcEndpointIds: endpoints });
    expect((api.Policy as { Statement: Props[] }).Statement).toContainEqual({
      Sid: 'OnlyThroughListedVpcEndpoints',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'execute-api:Invoke',
      Resource: 'execute-api:/*',
      Condition: { StringNotEquals: { 'aws:SourceVpce': endpoints } },
    });
  });

  it('passes cdk-nag', () => {
    expect(nagViolations(synth)).toEqual([]);
  });
});
