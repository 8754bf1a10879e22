import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PENDING_SLOTS_INDEX } from '../../lambda/tables';
import { DEAD_LETTER_DOOR, SWEEP } from '../../lib/backstops';
import { all, synthesize } from './synth';
import type { Synthesized } from './synth';

/** The dead-letter door and the sweeper as deployed (lib/transfer-backstops.ts), and the pipes' own dead-letter queue. */
let synth: Synthesized;
beforeAll(() => {
  synth = synthesize();
});
afterAll(() => synth?.cleanup());

const gateway = () => synth.stack.gateway;
const resolve = (value: unknown) => synth.stack.resolve(value);
const logicalId = (construct: { node: { defaultChild?: unknown } }) => resolve(synth.stack.getLogicalId(construct.node.defaultChild as never)) as string;
type Resource = { Properties: Record<string, unknown>; DependsOn?: unknown };
const resourceOf = (construct: { node: { defaultChild?: unknown } }) => synth.template.toJSON().Resources[logicalId(construct)] as Resource;
const environment = () => (resourceOf(gateway().gatewayFunction).Properties.Environment as { Variables: Record<string, unknown> }).Variables;

describe('the dead-letter door', () => {
  it('the function reads the dead-letter queue in batches with partial batch responses, after its role may', () => {
    const mapping = resourceOf(gateway().backstops.deadLetterMapping);
    expect(mapping.Properties).toEqual({
      EventSourceArn: resolve(gateway().deadLetterQueue.queueArn),
      FunctionName: resolve(gateway().gatewayFunction.functionName),
      BatchSize: DEAD_LETTER_DOOR.batchSize,
      ScalingConfig: { MaximumConcurrency: DEAD_LETTER_DOOR.maxConcurrency },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(JSON.stringify(mapping.DependsOn)).toMatch(/FunctionRole/);
    // The function trusts records from exactly this queue, and delivery failures of exactly the stack's transfer rule.
    expect(environment().EVENT_DEAD_LETTER_QUEUE_ARN).toEqual(resolve(gateway().deadLetterQueue.queueArn));
    expect(environment().TRANSFER_RULE_ARN).toEqual(resolve(gateway().transferRule.ruleArn));
  });

  it('a record it returns comes back after the sweep interval, longer than the function may run; the queue redrives nowhere, so nothing loops', () => {
    const queue = resourceOf(gateway().deadLetterQueue).Properties;
    expect(queue.VisibilityTimeout).toBe(SWEEP.everyMinutes * 60);
    expect(Number(queue.VisibilityTimeout)).toBeGreaterThan(Number(resourceOf(gateway().gatewayFunction).Properties.Timeout));
    expect(queue).not.toHaveProperty('RedrivePolicy');
  });

  it('the pipes set aside what they cannot publish in a queue of their own, encrypted, TLS-only, read by no function, with its alarm', () => {
    const undelivered = gateway().undeliveredTransferEvents;
    expect(resourceOf(undelivered).Properties).toEqual({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    const arn = JSON.stringify(resolve(undelivered.queueArn));
    for (const mapping of all(synth.template, 'AWS::Lambda::EventSourceMapping')) expect(JSON.stringify(mapping.Properties?.EventSourceArn)).not.toBe(arn);
    for (const pipe of all(synth.template, 'AWS::Pipes::Pipe')) expect(JSON.stringify(pipe.Properties)).not.toContain(logicalId(gateway().deadLetterQueue));
    const policy = all(synth.template, 'AWS::SQS::QueuePolicy').find((candidate) => JSON.stringify(candidate.Properties?.Queues) === JSON.stringify([{ Ref: logicalId(undelivered) }]));
    expect((policy?.Properties as { PolicyDocument: { Statement: unknown[] } }).PolicyDocument.Statement).toEqual([
      expect.objectContaining({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    ]);
    expect(resourceOf(gateway().backstops.undeliveredEventsAlarm).Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(undelivered), 'QueueName'] } }],
      Threshold: 1,
      AlarmActions: [resolve(gateway().monitoring.alarmTopic.topicArn)],
    });
  });
});

describe('the sweeper', () => {
  it('a schedule rule invokes the function every 5 minutes; the function is told that rule\'s ARN, and when an intent is due', () => {
    const rule = resourceOf(gateway().backstops.sweepRule).Properties;
    expect(rule).toMatchObject({
      ScheduleExpression: `rate(${SWEEP.everyMinutes} minutes)`,
      State: 'ENABLED',
      Targets: [
        {
          Id: 'Target0',
          Arn: resolve(gateway().gatewayFunction.functionArn),
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: SWEEP.everyMinutes * 60 },
        },
      ],
    });
    expect(rule).not.toHaveProperty('EventPattern');
    expect(environment().SWEEP_RULE_ARN).toBe(`arn:aws:events:us-east-1:111122223333:rule/${String(rule.Name)}`);
    // The function's timeout plus the margin: no invocation can still hold an intent that old.
    expect(environment().SWEEP_AFTER_SECONDS).toBe(String(10 + SWEEP.marginSeconds));
  });

  it('the ledger has the sparse index of PENDING slots the sweeper queries, projecting what it reads', () => {
    const table = resourceOf(gateway().ledgerTable).Properties;
    expect(table.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: PENDING_SLOTS_INDEX.indexName,
        KeySchema: [
          { AttributeName: PENDING_SLOTS_INDEX.partitionKey, KeyType: 'HASH' },
          { AttributeName: PENDING_SLOTS_INDEX.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...PENDING_SLOTS_INDEX.projected] },
      },
    ]);
  });
});
