import { Duration, Names, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Stats, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { AttributeType, ProjectionType } from 'aws-cdk-lib/aws-dynamodb';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import type { IRule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Role } from 'aws-cdk-lib/aws-iam';
import { EventSourceMapping } from 'aws-cdk-lib/aws-lambda';
import type { Function as LambdaFn } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../lambda/config';
import { PENDING_SLOTS_INDEX } from '../lambda/tables';
import { DEAD_LETTER_DOOR, SWEEP } from './backstops';
import { setAsideQueue } from './event-pipeline';

/**
 * Where the transfer event pipes set aside a stream record they could not publish. Their own queue, not the event
 * door's dead-letter queue: the dead-letter door reads that one, and a pipe's record (batch metadata, not a transfer
 * event) must never reach it, nor loop there. Created before the pipes; its alarm comes with the backstops.
 */
export function undeliveredTransferEventsQueue(scope: Construct): Queue {
  return setAsideQueue(scope, 'UndeliveredTransferEvents', 'the transfer event pipes set aside here what they could not publish; nothing reads it but an operator.');
}

export interface TransferBackstopsProps {
  readonly gatewayName: string;
  readonly gatewayFunction: LambdaFn;
  readonly role: Role;
  readonly ledgerTable: Table;
  readonly deadLetterQueue: IQueue;
  /** The rule delivering into the buffer: the dead-letter door answers only its delivery failures. */
  readonly transferRule: IRule;
  readonly undeliveredTransferEvents: IQueue;
  readonly alarmTopic: ITopic;
}

/**
 * The two backstops of contract section 9 (lib/backstops.ts says why each number):
 * - the dead-letter door: an event source mapping on the dead-letter queue into the same function, which writes the
 *   failure record (and so the `Contact Transfer Failed` event) that a request dead-lettered by a crash, a timeout
 *   or an undeliverable event never got;
 * - the sweeper: a schedule rule invoking the function, which settles PENDING intents whose request stopped, found
 *   through a sparse index of the ledger.
 */
export class TransferBackstops extends Construct {
  readonly deadLetterMapping: EventSourceMapping;
  readonly sweepRule: Rule;
  readonly undeliveredEventsAlarm: Alarm;

  constructor(scope: Construct, id: string, props: TransferBackstopsProps) {
    super(scope, id);
    const { gatewayFunction, role, ledgerTable, deadLetterQueue } = props;

    ledgerTable.addGlobalSecondaryIndex({
      indexName: PENDING_SLOTS_INDEX.indexName,
      partitionKey: { name: PENDING_SLOTS_INDEX.partitionKey, type: AttributeType.STRING },
      sortKey: { name: PENDING_SLOTS_INDEX.sortKey, type: AttributeType.STRING },
      projectionType: ProjectionType.INCLUDE,
      nonKeyAttributes: [...PENDING_SLOTS_INDEX.projected],
    });
    role.addToPolicy(
      new PolicyStatement({
        sid: 'PendingSlots',
        effect: Effect.ALLOW,
        actions: ['dynamodb:Query'],
        resources: [`${ledgerTable.tableArn}/index/${PENDING_SLOTS_INDEX.indexName}`],
      }),
    );
    // The mapping polls with the function's role: exactly the actions the Lambda developer guide lists.
    role.addToPolicy(
      new PolicyStatement({
        sid: 'DeadLetters',
        effect: Effect.ALLOW,
        actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
        resources: [deadLetterQueue.queueArn],
      }),
    );
    this.deadLetterMapping = new EventSourceMapping(this, 'DeadLetterMapping', {
      target: gatewayFunction,
      eventSourceArn: deadLetterQueue.queueArn,
      batchSize: DEAD_LETTER_DOOR.batchSize,
      maxConcurrency: DEAD_LETTER_DOOR.maxConcurrency,
      reportBatchItemFailures: true,
    });
    this.deadLetterMapping.node.addDependency(role);

    // A name of its own, so the function can be told the rule's ARN without referring to the rule, whose target
    // refers to the function (a cycle otherwise). Unique per stack and construct path, at most 64 characters.
    const ruleName = Names.uniqueResourceName(this, { maxLength: 64, separator: '-' });
    this.sweepRule = new Rule(this, 'SweepRule', {
      ruleName,
      description: 'Settles PENDING transfer intents whose request stopped (docs/architecture.md, "The backstops")',
      schedule: Schedule.rate(Duration.minutes(SWEEP.everyMinutes)),
      // A sweep that is missed or late is covered by the next one.
      targets: [new LambdaFunction(gatewayFunction, { retryAttempts: 2, maxEventAge: Duration.minutes(SWEEP.everyMinutes) })],
    });
    const timeoutSeconds = gatewayFunction.timeout?.toSeconds() ?? 10;
    gatewayFunction.addEnvironment(ENV.deadLetterQueueArn, deadLetterQueue.queueArn);
    gatewayFunction.addEnvironment(ENV.transferRuleArn, props.transferRule.ruleArn);
    gatewayFunction.addEnvironment(ENV.sweepRuleArn, Stack.of(this).formatArn({ service: 'events', resource: 'rule', resourceName: ruleName }));
    gatewayFunction.addEnvironment(ENV.sweepAfterSeconds, String(timeoutSeconds + SWEEP.marginSeconds));

    this.undeliveredEventsAlarm = new Alarm(this, 'TransferEventsUndelivered', {
      alarmName: `${props.gatewayName}-TransferEventsUndelivered`,
      metric: props.undeliveredTransferEvents.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: Stats.MAXIMUM }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription:
        'A transfer event pipe could not publish a Contact Transferred, Contact Transfer Failed or Contact Transfer Skipped event after its retries ' +
        'and set the stream record aside. The ledger still holds the transfer or failure: read the message for the shard ' +
        'and sequence numbers (docs/operations.md, "Undelivered transfer events"), and tell the consumers what they missed.',
    });
    this.undeliveredEventsAlarm.addAlarmAction(new SnsAction(props.alarmTopic));
    this.undeliveredEventsAlarm.addOkAction(new SnsAction(props.alarmTopic));
  }
}
