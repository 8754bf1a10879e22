import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFn } from 'aws-cdk-lib/aws-lambda';
import { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../lambda/config';
import { SCHEDULES_CONTACT_INDEX, SCHEDULES_ITEM_PREFIXES, SCHEDULES_TABLE, SCHEDULES_UNARMED_INDEX } from '../lambda/tables';
import { denySendsUnless, setAsideQueue } from './event-pipeline';
import { statement } from './gateway-function';
import { tableKeys } from './gateway-tables';

export interface ScheduledTransfersProps {
  readonly gatewayFunction: LambdaFn;
  /** The service function's role: the direct-invocation function's role gets none of this. */
  readonly role: Role;
  /** Where a fired schedule delivers its request: the event door's buffer. */
  readonly eventBuffer: IQueue;
}

/**
 * Scheduled transfers (contract section 12) on EventBridge Scheduler: the schedules' table, the stack's own schedule
 * group, the role Scheduler assumes to deliver a fired schedule into the event buffer, and the queue where Scheduler
 * sets aside a delivery it gave up on. The service function creates and deletes one-time schedules in the group,
 * passing that role; nothing waits inside a function.
 */
export class ScheduledTransfers extends Construct {
  readonly table: Table;
  readonly scheduleGroup: ScheduleGroup;
  /** Trusted by EventBridge Scheduler for this group's schedules only; may send to the buffer and the dead-letter queue alone. */
  readonly schedulerRole: Role;
  /** What Scheduler could not deliver after its retries; nothing reads it but an operator. */
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: ScheduledTransfersProps) {
    super(scope, id);
    const { gatewayFunction, role, eventBuffer } = props;
    const stack = Stack.of(this);

    // The state outlives a deleted stack like the ledger does: it is the record of what was scheduled, cancelled and
    // fired, and the one place a fired schedule's outcome is kept.
    this.table = new Table(this, 'Table', {
      ...tableKeys(SCHEDULES_TABLE),
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: SCHEDULES_CONTACT_INDEX.indexName,
      partitionKey: { name: SCHEDULES_CONTACT_INDEX.partitionKey, type: AttributeType.STRING },
      sortKey: { name: SCHEDULES_CONTACT_INDEX.sortKey, type: AttributeType.STRING },
      projectionType: ProjectionType.ALL,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: SCHEDULES_UNARMED_INDEX.indexName,
      partitionKey: { name: SCHEDULES_UNARMED_INDEX.partitionKey, type: AttributeType.STRING },
      sortKey: { name: SCHEDULES_UNARMED_INDEX.sortKey, type: AttributeType.STRING },
      projectionType: ProjectionType.INCLUDE,
      nonKeyAttributes: [...SCHEDULES_UNARMED_INDEX.projected],
    });

    // Deleting the stack deletes the group and so every schedule still waiting in it: none can fire afterwards into a
    // buffer and a role that no longer exist.
    this.scheduleGroup = new ScheduleGroup(this, 'Group', { removalPolicy: RemovalPolicy.DESTROY });
    const groupName = this.scheduleGroup.scheduleGroupName;
    const schedulesInGroup = stack.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${groupName}/*` });

    this.deadLetterQueue = setAsideQueue(
      this,
      'DeadLetterQueue',
      'EventBridge Scheduler sends here a fired schedule it could not deliver to the event buffer after its retries.',
    );

    // Confused-deputy prevention as the EventBridge Scheduler user guide documents it: Scheduler may assume the role
    // only on behalf of a schedule of this account's group.
    this.schedulerRole = new Role(this, 'SchedulerRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnEquals: { 'aws:SourceArn': this.scheduleGroup.scheduleGroupArn },
        },
      }),
      description: 'Delivers the contact transfer gateway\'s fired schedules into its event buffer',
    });
    // Both queues use SQS-managed encryption: no KMS key to grant.
    this.schedulerRole.addToPolicy(statement('DeliverFiredSchedules', ['sqs:SendMessage'], [eventBuffer.queueArn]));
    this.schedulerRole.addToPolicy(statement('SetAsideUndelivered', ['sqs:SendMessage'], [this.deadLetterQueue.queueArn]));
    onlySentByRole(this.deadLetterQueue, this.schedulerRole);

    // GetSchedule is not granted: the function keeps a schedule's state in its table, never reads it back from Scheduler.
    role.addToPolicy(statement('SchedulesInOwnGroup', ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule'], [schedulesInGroup]));
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${asNagNamesIt(stack, schedulesInGroup)}]`,
      reason:
        'Schedule names are made per request (one schedule per scheduled transfer), so the resource is every schedule of the ' +
        'stack\'s own schedule group: the narrowest ARN Scheduler authorizes CreateSchedule and DeleteSchedule on. The group is fixed.',
    });
    role.addToPolicy(
      new PolicyStatement({
        sid: 'PassSchedulerRole',
        effect: Effect.ALLOW,
        actions: ['iam:PassRole'],
        resources: [this.schedulerRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    );
    role.addToPolicy(statement('ScheduleRecords', SCHEDULE_TABLE_ACTIONS, [this.table.tableArn]));
    role.addToPolicy(statement('ContactSchedules', ['dynamodb:Query'], [`${this.table.tableArn}/index/${SCHEDULES_CONTACT_INDEX.indexName}`]));
    role.addToPolicy(statement('UnarmedSchedules', ['dynamodb:Query'], [`${this.table.tableArn}/index/${SCHEDULES_UNARMED_INDEX.indexName}`]));
    // The sweeper's take-back of a schedule whose create stopped before the scheduler held it: schedule items only,
    // never a contact's counter of them.
    role.addToPolicy(
      new PolicyStatement({
        sid: 'TakeBackOrphanedSchedules',
        effect: Effect.ALLOW,
        actions: ['dynamodb:DeleteItem'],
        resources: [this.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${SCHEDULES_ITEM_PREFIXES.schedule}*`] } },
      }),
    );

    gatewayFunction.addEnvironment(ENV.schedulesTable, this.table.tableName);
    gatewayFunction.addEnvironment(ENV.scheduleGroupName, groupName);
    gatewayFunction.addEnvironment(ENV.schedulerRoleArn, this.schedulerRole.roleArn);
    gatewayFunction.addEnvironment(ENV.scheduleTargetArn, eventBuffer.queueArn);
    gatewayFunction.addEnvironment(ENV.scheduleDeadLetterArn, this.deadLetterQueue.queueArn);
  }
}

/**
 * The schedules' table is not append-only (a schedule moves from SCHEDULED to CANCELLED or FIRED, then gets its
 * outcome). Expiry is DynamoDB's TTL; the function deletes only the schedule items the sweeper takes back.
 */
const SCHEDULE_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];

/**
 * Only Scheduler, acting with the scheduler role, may put a message into the dead-letter queue, so its alarm means a
 * delivery Scheduler gave up on. aws:PrincipalArn is the role's ARN for each of its sessions (NotPrincipal would have to
 * name every session); a principal of another account carries none of this queue's grants anyway.
 */
function onlySentByRole(queue: IQueue, role: Role): void {
  denySendsUnless(queue, 'OnlySchedulerSends', { ArnNotEquals: { 'aws:PrincipalArn': role.roleArn } });
}

/**
 * An ARN as cdk-nag names it in a finding: the template's value, with `<Name>` for each reference (a pseudo parameter
 * such as the account when the stack is environment-agnostic).
 */
function asNagNamesIt(stack: Stack, arn: string): string {
  const resolved: unknown = stack.resolve(arn);
  if (typeof resolved === 'string') return resolved;
  const [delimiter, parts] = (resolved as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return parts.map((part) => (typeof part === 'string' ? part : `<${(part as { Ref: string }).Ref}>`)).join(delimiter);
}
