import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { AnyPrincipal, Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { EventSourceMapping } from 'aws-cdk-lib/aws-lambda';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { CfnPipe } from 'aws-cdk-lib/aws-pipes';
import { Queue, QueueEncryption, RedrivePermission } from 'aws-cdk-lib/aws-sqs';
import type { QueueProps } from 'aws-cdk-lib/aws-sqs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { DEAD_LETTER_DOOR } from './backstops';
import { EVENT_BUFFER, TRANSFER_DETAIL_TYPE } from '../lambda/event-buffer';
import { statement } from './gateway-function';
import type { GatewaySettings } from './gateway-props';
import { TRANSFER_EVENT_PIPES } from './transfer-events';

export interface GatewayQueues {
  /** Receives EventBridge delivery failures and buffered events that still failed after an hour of retries; the dead-letter door drains it. */
  readonly deadLetterQueue: Queue;
  /** The event door's durable buffer between the rule and the function. */
  readonly eventBuffer: Queue;
}

/**
 * A queue where something is set aside for an operator after its retries: SQS-managed encryption, TLS-only, kept the
 * 14 days SQS allows at most. `whatLandsHere` completes cdk-nag's acknowledgement of it having no dead-letter queue.
 */
export function setAsideQueue(scope: Construct, id: string, whatLandsHere: string, props: QueueProps = {}): Queue {
  const queue = new Queue(scope, id, {
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    ...props,
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: `This queue is itself a dead-letter queue: ${whatLandsHere} A dead-letter queue for it would add nothing; messages are kept 14 days for an operator.`,
  });
  return queue;
}

/** The event door's queues; the function's role and environment need the buffer before the function exists. */
export function gatewayQueues(scope: Construct): GatewayQueues {
  const deadLetterQueue = setAsideQueue(
    scope,
    'DeadLetterQueue',
    "the rule target's delivery failures and the buffer's redrive send their messages here, for the dead-letter door.",
    { visibilityTimeout: Duration.seconds(DEAD_LETTER_DOOR.visibilityTimeoutSeconds) },
  );
  const eventBuffer = new Queue(scope, 'EventBuffer', {
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    visibilityTimeout: Duration.seconds(EVENT_BUFFER.visibilityTimeoutSeconds),
    retentionPeriod: Duration.days(EVENT_BUFFER.retentionDays),
    deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: EVENT_BUFFER.maxReceiveCount },
    // No other queue may make the buffer its dead-letter queue and so move messages into it past its policy.
    redriveAllowPolicy: { redrivePermission: RedrivePermission.DENY_ALL },
  });
  return { deadLetterQueue, eventBuffer };
}

export interface EventPipelineProps extends GatewayQueues {
  readonly settings: GatewaySettings;
  readonly gatewayFunction: IFunction;
  /** The mapping polls with this role, so its policy must exist before the mapping. */
  readonly functionRole: Role;
  readonly ledgerTable: ITable;
  /** Where the pipes set aside what they could not publish (lib/transfer-backstops.ts). */
  readonly undeliveredTransferEvents: IQueue;
}

export interface EventPipeline {
  readonly transferRule: Rule;
  readonly eventBufferMapping: EventSourceMapping;
  /** `Contact Transferred`, `Contact Transfer Failed` and `Contact Transfer Skipped`, from the ledger's stream to the default bus. */
  readonly eventPipes: CfnPipe[];
  /** Lets one more principal (a role's ARN) send to the buffer, which denies every sender but the rule and these. */
  readonly allowBufferSender: (principalArn: string) => void;
}

/**
 * Events in and out. In: the event door (contract section 3.2), where the rule delivers into the buffer, which only this
 * rule may send to, and the function drains it through the event source mapping with partial batch responses; the
 * target's own dead-letter queue catches what EventBridge could not deliver to the buffer at all. Out: the transfer
 * events (contract section 9) from the ledger's stream.
 */
export function eventPipeline(scope: Construct, props: EventPipelineProps): EventPipeline {
  const { settings, eventBuffer, deadLetterQueue } = props;
  const transferRule = new Rule(scope, 'TransferRule', {
    description: 'TransferContact requests published to the default event bus (contract section 3.2)',
    eventPattern: { detailType: [TRANSFER_DETAIL_TYPE], source: [...settings.eventSources] },
    targets: [new SqsQueue(eventBuffer, { deadLetterQueue, retryAttempts: 4, maxEventAge: Duration.hours(1) })],
  });
  // A dead letter is answered as the rule's delivery failure or the buffer's redrive: nobody else may put one there.
  onlySentBy(deadLetterQueue, { sources: [transferRule.ruleArn, eventBuffer.queueArn], sqsRedrive: true });
  // A buffered event is recorded under the source and id it names: only the rule, and the principals the stack names,
  // may send one (contract section 3.3: a buffer-shaped payload cannot be forged by a caller).
  const bufferSenders = onlySentBy(eventBuffer, { sources: [transferRule.ruleArn], sqsRedrive: false });
  const eventBufferMapping = new EventSourceMapping(scope, 'EventBufferMapping', {
    target: props.gatewayFunction,
    eventSourceArn: eventBuffer.queueArn,
    batchSize: EVENT_BUFFER.batchSize,
    maxConcurrency: EVENT_BUFFER.maxConcurrency,
    reportBatchItemFailures: true,
  });
  eventBufferMapping.node.addDependency(props.functionRole);
  const eventPipes = transferEventPipes(scope, props.ledgerTable, props.undeliveredTransferEvents, settings.transferEventSource);
  return { transferRule, eventBufferMapping, eventPipes, allowBufferSender: bufferSenders.allow };
}

/**
 * Denies sqs:SendMessage to every principal in the account (whatever its IAM policies allow) unless the request comes
 * from one of `sources` (aws:SourceArn, which AWS sets on a service's request on behalf of a resource: the rule's
 * delivery), from a principal `allow` names later (aws:PrincipalArn: a role's ARN, whatever session of it sends), or,
 * with `sqsRedrive`, from SQS itself moving a message after its last receive (a redrive names no aws:SourceArn
 * documented for it, so it is let through by the service's name; the dead-letter door checks the source queue it
 * names). A negated condition is true where its key is absent, so an IAM user or role of no such name is denied.
 */
function onlySentBy(queue: IQueue, { sources, sqsRedrive }: { readonly sources: string[]; readonly sqsRedrive: boolean }): { allow: (principalArn: string) => void } {
  const principals: string[] = [];
  const deny = denySendsUnless(queue, 'OnlyItsSourcesSend', {
    ArnNotEquals: { 'aws:SourceArn': sources },
    ...(sqsRedrive && { StringNotEquals: { 'aws:PrincipalServiceName': 'sqs.amazonaws.com' } }),
  });
  return {
    allow: (principalArn) => {
      principals.push(principalArn);
      // Keys under one operator must all hold for the deny: neither the rule's delivery nor a named principal.
      deny.addCondition('ArnNotEquals', { 'aws:SourceArn': sources, 'aws:PrincipalArn': [...principals] });
    },
  };
}

/**
 * A queue policy statement denying sqs:SendMessage to every principal, whatever its IAM policies allow, where all of
 * `conditions` hold: negated conditions naming who may send.
 */
export function denySendsUnless(queue: IQueue, sid: string, conditions: Record<string, unknown>): PolicyStatement {
  const deny = new PolicyStatement({ sid, effect: Effect.DENY, principals: [new AnyPrincipal()], actions: ['sqs:SendMessage'], resources: [queue.queueArn], conditions });
  queue.addToResourcePolicy(deny);
  return deny;
}

/**
 * DynamoDB Streams on the ledger and one EventBridge Pipe per event type into the default bus. Chosen over publishing
 * from the function: the event follows from the durable record (the function may die right after writing it), the
 * request path pays nothing, and the bundle needs no EventBridge client. Each pipe reads the stream and retries a
 * record until it is published or the stream drops it (24 h). Three pipes are three readers per shard, one more than
 * DynamoDB Streams recommends: a read it throttles is retried by the pipe, so events may come later, never lost.
 */
function transferEventPipes(scope: Construct, ledgerTable: ITable, undeliveredTransferEvents: IQueue, eventSource: string): CfnPipe[] {
  const stack = Stack.of(scope);
  const streamArn = ledgerTable.tableStreamArn;
  if (streamArn === undefined) throw new Error('The ledger table has no stream.');
  const defaultBus = stack.formatArn({ service: 'events', resource: 'event-bus', resourceName: 'default' });
  const role = new Role(scope, 'EventPipesRole', {
    assumedBy: new ServicePrincipal('pipes.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
    description: 'Publishes the contact transfer gateway\'s transfer events from the ledger stream',
  });
  role.addToPolicy(statement('ReadLedgerStream', ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'], [streamArn]));
  // EventBridge Pipes lists the table's streams to find this one; ListStreams has no resource-level permission.
  role.addToPolicy(statement('FindLedgerStream', ['dynamodb:ListStreams'], ['*']));
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'dynamodb:ListStreams supports no resource-level permission; EventBridge Pipes needs it for a DynamoDB stream source. It reveals stream ARNs only.',
  });
  // An event a pipe cannot deliver after its retries is set aside in its own queue (and so to its alarm) instead of
  // holding up the events behind it on the stream for the stream's 24 hours.
  role.addToPolicy(statement('UndeliveredTransferEvents', ['sqs:SendMessage'], [undeliveredTransferEvents.queueArn]));
  role.addToPolicy(
    new PolicyStatement({
      sid: 'PublishTransferEvents',
      effect: Effect.ALLOW,
      actions: ['events:PutEvents'],
      resources: [defaultBus],
      // The pipes can publish nothing but the gateway's own source.
      conditions: { StringEquals: { 'events:source': eventSource } },
    }),
  );
  return TRANSFER_EVENT_PIPES.map((pipe) => {
    const resource = new CfnPipe(scope, `${pipe.detailType.replace(/\s+/g, '')}Pipe`, {
      description: `${pipe.detailType} events (contract section 9) from the transfer ledger`,
      roleArn: role.roleArn,
      source: streamArn,
      sourceParameters: {
        dynamoDbStreamParameters: {
          startingPosition: 'TRIM_HORIZON',
          batchSize: 10,
          // A batch that fails is split until the one bad record is found, retried a few times, then set aside.
          onPartialBatchItemFailure: 'AUTOMATIC_BISECT',
          maximumRetryAttempts: 10,
          deadLetterConfig: { arn: undeliveredTransferEvents.queueArn },
        },
        filterCriteria: { filters: pipe.filters.map((pattern) => ({ pattern: JSON.stringify(pattern) })) },
      },
      target: defaultBus,
      targetParameters: {
        inputTemplate: pipe.inputTemplate,
        eventBridgeEventBusParameters: { detailType: pipe.detailType, source: eventSource },
      },
    });
    // The pipe validates its role when it is created.
    resource.node.addDependency(role);
    return resource;
  });
}
