import { Duration, Stack, Token } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { Rule } from 'aws-cdk-lib/aws-events';
import type { Grant, IGrantable, Role } from 'aws-cdk-lib/aws-iam';
import type { EventSourceMapping, Function as LambdaFn } from 'aws-cdk-lib/aws-lambda';
import type { CfnPipe } from 'aws-cdk-lib/aws-pipes';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../lambda/config';
import { memorySize } from '../lambda/settings';
import { resolveGatewayProps } from './context';
import { eventPipeline, gatewayQueues } from './event-pipeline';
import { gatewayApi, methodArns, TRANSFER_PATH } from './gateway-api';
import type { ScheduleInvokeArns } from './gateway-api';
import { gatewayFunction } from './gateway-function';
import { GatewayMonitoring } from './gateway-monitoring';
import type { GatewaySettings, GatewaySettingsProps } from './gateway-props';
import { gatewayTables } from './gateway-tables';
import { ScheduledTransfers } from './scheduled-transfers';
import { TransferBackstops, undeliveredTransferEventsQueue } from './transfer-backstops';

export { connectResourceArns } from './gateway-function';
export { TRANSFER_PATH, transferRequestModel } from './gateway-api';
export type { ScheduleInvokeArns } from './gateway-api';

/** Chosen by `npm run bench` from latency and cost by memory size (docs/performance.md); the settings table's default. */
export const DEFAULT_MEMORY_SIZE_MB = memorySize.default ?? 512;

/** The function's timeout when `timeout` is not given; the backstops' waits and docs/configuration.md's figures build on it. */
export const DEFAULT_TIMEOUT_SECONDS = 10;

export interface ContactTransferGatewayProps extends GatewaySettingsProps {
  /** Must stay below API Gateway's 29 s integration timeout. @default Duration.seconds(10) */
  readonly timeout?: Duration;
}

/**
 * The contact transfer gateway: one function behind an IAM-authorized REST API and an EventBridge rule, its
 * idempotency table and transfer ledger, and a dead-letter queue. Bound to exactly one Amazon Connect instance.
 *
 * The parts (gateway-tables, gateway-function, gateway-api, event-pipeline, gateway-monitoring) each read alone; they
 * build into this construct's scope, so every resource keeps the logical id it had when this was one file.
 */
export class ContactTransferGateway extends Construct {
  readonly api: RestApi;
  /**
   * The API's base URL with its stage, `https://<api-id>.execute-api.<region>.amazonaws.com/<stage>/`: the endpoint
   * to give the client, `transfer-contact --endpoint`, or an AWS SDK Connect client (SigV4, service execute-api).
   */
  readonly apiEndpoint: string;
  /** Full URL of `POST /contact/transfer`, for raw HTTP callers such as curl; not an endpoint for the client. */
  readonly transferUrl: string;
  /** The `execute-api:Invoke` resource of `POST /contact/transfer`, for a caller's identity policy. */
  readonly transferInvokeArn: string;
  /** The `execute-api:Invoke` resource of the history (`GET /contact/transfers/*`), for a caller's identity policy. */
  readonly historyInvokeArn: string;
  /** The `execute-api:Invoke` resources of the schedule routes (create, read, cancel), for a caller's identity policy. */
  readonly scheduleInvokeArns: ScheduleInvokeArns;
  /** Behind the API, the buffer, the dead-letter queue and the sweep: invoked by those AWS services alone. */
  readonly gatewayFunction: LambdaFn;
  readonly role: Role;
  /** Direct invocation (contract section 3.3): grant callers `grantDirectInvoke`. */
  readonly directFunction: LambdaFn;
  readonly directRole: Role;
  readonly idempotencyTable: Table;
  readonly ledgerTable: Table;
  /** Receives EventBridge delivery failures and buffered events that still failed after an hour of retries. */
  readonly deadLetterQueue: Queue;
  /** The event door's durable buffer between the rule and the function. */
  readonly eventBuffer: Queue;
  readonly eventBufferMapping: EventSourceMapping;
  readonly transferRule: Rule;
  /** Alarms, the topic they notify and the dashboard. */
  readonly monitoring: GatewayMonitoring;
  /**
   * `<stack>-<construct id>`: unique per gateway in an account and Region. Names the API, the alarms and the dashboard,
   * and is the `service` dimension of the function's metrics.
   */
  readonly gatewayName: string;
  /** `Contact Transferred` and `Contact Transfer Failed`, from the ledger's stream to the default bus. */
  readonly eventPipes: CfnPipe[];
  /** What the pipes could not publish after their retries. */
  readonly undeliveredTransferEvents: Queue;
  private readonly allowBufferSender: (principalArn: string) => void;
  /** The dead-letter door and the sweeper (lib/transfer-backstops.ts). */
  readonly backstops: TransferBackstops;
  /** Scheduled transfers: their table, the schedule group, the scheduler role and its dead-letter queue. */
  readonly schedules: ScheduledTransfers;
  /** The props as validated, defaults applied (the settings table, lambda/settings.ts). */
  readonly settings: GatewaySettings;

  constructor(scope: Construct, id: string, props: ContactTransferGatewayProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.gatewayName = `${stack.stackName}-${id}`;
    const settings = resolveGatewayProps(props as unknown as Readonly<Record<string, unknown>>);
    this.settings = settings;
    const instance = settings.connectInstance;
    if (!Token.isUnresolved(stack.account) && stack.account !== instance.account) {
      throw new Error(
        `The Connect instance ${instance.arn} is in account ${instance.account} but the stack deploys to ${stack.account}: ` +
          'the gateway calls Connect with its own role, so it must be deployed to the instance account.',
      );
    }
    const timeout = props.timeout ?? Duration.seconds(DEFAULT_TIMEOUT_SECONDS);
    if (timeout.toSeconds() >= 29) throw new Error('timeout must stay below API Gateway\'s 29 s integration timeout.');

    ({ idempotencyTable: this.idempotencyTable, ledgerTable: this.ledgerTable } = gatewayTables(this));
    ({ deadLetterQueue: this.deadLetterQueue, eventBuffer: this.eventBuffer } = gatewayQueues(this));
    ({ gatewayFunction: this.gatewayFunction, role: this.role, directFunction: this.directFunction, directRole: this.directRole } = gatewayFunction(this, {
      settings,
      gatewayName: this.gatewayName,
      timeout,
      idempotencyTable: this.idempotencyTable,
      ledgerTable: this.ledgerTable,
      eventBuffer: this.eventBuffer,
    }));
    this.undeliveredTransferEvents = undeliveredTransferEventsQueue(this);
    this.schedules = new ScheduledTransfers(this, 'Schedules', { gatewayFunction: this.gatewayFunction, role: this.role, eventBuffer: this.eventBuffer });
    ({
      transferRule: this.transferRule,
      eventBufferMapping: this.eventBufferMapping,
      eventPipes: this.eventPipes,
      allowBufferSender: this.allowBufferSender,
    } = eventPipeline(this, {
      settings,
      gatewayFunction: this.gatewayFunction,
      functionRole: this.role,
      ledgerTable: this.ledgerTable,
      deadLetterQueue: this.deadLetterQueue,
      eventBuffer: this.eventBuffer,
      undeliveredTransferEvents: this.undeliveredTransferEvents,
    }));
    this.allowBufferSender(this.schedules.schedulerRole.roleArn);
    this.api = gatewayApi(this, { settings, gatewayName: this.gatewayName, gatewayFunction: this.gatewayFunction });
    // The function's configuration refers to the API (Ref RestApi); the API's method refers to the function. No cycle:
    // the RestApi resource itself depends on nothing of the function's, and the deployment waits for the method.
    this.gatewayFunction.addEnvironment(ENV.apiId, this.api.restApiId);
    this.apiEndpoint = this.api.url;
    this.transferUrl = this.api.urlForPath(`/${TRANSFER_PATH.join('/')}`);
    ({ transfer: this.transferInvokeArn, history: this.historyInvokeArn, schedules: this.scheduleInvokeArns } = methodArns(this.api));

    this.monitoring = new GatewayMonitoring(this, 'Monitoring', {
      gatewayName: this.gatewayName,
      gatewayFunction: this.gatewayFunction,
      api: this.api,
      deadLetterQueue: this.deadLetterQueue,
      directFunction: this.directFunction,
      buffer: this.eventBuffer,
      ...(settings.alarmTopicArn !== undefined && { alarmTopic: Topic.fromTopicArn(this, 'AlarmTopic', settings.alarmTopicArn) }),
      ...(settings.alarmEmail !== undefined && { alarmEmail: settings.alarmEmail }),
      bufferAgeAlarmSeconds: settings.bufferAgeAlarmSeconds,
      schedules: { group: this.schedules.scheduleGroup, deadLetterQueue: this.schedules.deadLetterQueue },
    });
    this.backstops = new TransferBackstops(this, 'Backstops', {
      gatewayName: this.gatewayName,
      gatewayFunction: this.gatewayFunction,
      role: this.role,
      ledgerTable: this.ledgerTable,
      deadLetterQueue: this.deadLetterQueue,
      transferRule: this.transferRule,
      undeliveredTransferEvents: this.undeliveredTransferEvents,
      alarmTopic: this.monitoring.alarmTopic,
    });
  }

  /**
   * Lets the role `principalArn` send to the event buffer, as EventBridge Scheduler's role for the stack's scheduled
   * transfers does: the buffer's policy denies sqs:SendMessage to every other principal but the transfer rule, since
   * the function records a buffered event under the source and id the sender chose. The role still needs
   * sqs:SendMessage on the buffer in its own policy.
   */
  allowEventBufferSender(principalArn: string): void {
    this.allowBufferSender(principalArn);
  }

  /**
   * Lets `grantee` (a Step Functions role, an application's role) invoke the direct-invocation function; recorded as
   * `invoke`. The function behind the API and the buffer is never granted to anyone.
   */
  grantDirectInvoke(grantee: IGrantable): Grant {
    return this.directFunction.grantInvoke(grantee);
  }
}
