// Generated from lambda/settings.ts by `npm run settings` (lib/settings-docs.ts); edit the table, not this file.
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ConnectInstance } from '../lambda/domain/arn';

/** The gateway's knobs as construct props: `connectInstanceArn` is required, everything else has a default. */
export interface GatewaySettingsProps {
  /**
   * The one Amazon Connect instance this gateway serves (the stack deploys to its account and Region): an Amazon Connect instance ARN, arn:<partition>:connect:<region>:<account>:instance/<instanceId>.
   */
  readonly connectInstanceArn: string;
  /**
   * Channels that may be transferred: a list, each one of TASK, EMAIL (the channels Amazon Connect's TransferContact accepts).
   * @default ["TASK","EMAIL"]
   */
  readonly allowedChannels?: readonly string[];
  /**
   * Transfers allowed per contact tree: a whole number from 1 to 1000.
   * @default 11
   */
  readonly maxTransfers?: number;
  /**
   * EventBridge `source` values the transfer rule and the event door accept: a list, each a custom EventBridge source of at most 256 characters, not starting with "aws.".
   * @default ["internal.contact-transfer"]
   */
  readonly eventSources?: readonly string[];
  /**
   * More accounts whose principals may call the API (they still need an identity policy): a list, each a 12-digit AWS account id.
   * @default - none
   */
  readonly allowedAccounts?: readonly string[];
  /**
   * An AWS Organizations id whose principals may call the API: an AWS Organizations id such as o-a1b2c3d4e5.
   * @default - none
   */
  readonly allowedOrganizationId?: string;
  /**
   * API stage steady rate, requests per second: Connect's TransferContact quota (docs/configuration.md, "Why 2 requests/s, burst 5"): a number greater than 0 and at most 10000.
   * @default 2
   */
  readonly throttlingRateLimit?: number;
  /**
   * API stage burst (Connect's TransferContact burst): a whole number from 1 to 5000.
   * @default 5
   */
  readonly throttlingBurstLimit?: number;
  /**
   * Powertools log level of the function: one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL, SILENT.
   * @default "INFO"
   */
  readonly logLevel?: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'CRITICAL' | 'SILENT';
  /**
   * Retention of the function's and the API's log groups, in days (CloudWatch Logs' values; 9999 keeps them forever): one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653, 9999.
   * @default 30
   */
  readonly logRetentionDays?: RetentionDays;
  /**
   * How long flow, queue and user descriptions are cached per Lambda container; 0 turns the cache off: a whole number from 0 to 3600.
   * @default 60
   */
  readonly metadataCacheTtlSeconds?: number;
  /**
   * How long a successful transfer is replayed for its idempotency key: a whole number from 3600 to 604800.
   * @default 3600
   */
  readonly idempotencyTtlSeconds?: number;
  /**
   * How long ledger records live (a task lives at most 7 days): a whole number from 30 to 3650.
   * @default 30
   */
  readonly ledgerRetentionDays?: number;
  /**
   * An existing SNS topic the alarms notify instead: an SNS topic ARN in the Region the gateway deploys to.
   * @default - none: the gateway creates a topic
   */
  readonly alarmTopicArn?: string;
  /**
   * An address subscribed to the alarm topic (it must confirm the subscription): an e-mail address.
   * @default - none
   */
  readonly alarmEmail?: string;
  /**
   * The buffer alarm fires when the oldest buffered request is this many seconds old: a whole number from 300 to 1209600.
   * @default 900
   */
  readonly bufferAgeAlarmSeconds?: number;
  /**
   * Active X-Ray tracing of the function and the API stage: true or false.
   * @default false
   */
  readonly tracing?: boolean;
  /**
   * Interface VPC endpoints that alone may reach the API, which then is private: a list, each an interface VPC endpoint id (vpce-...).
   * @default - none: a regional API
   */
  readonly vpcEndpointIds?: readonly string[];
  /**
   * The most TransferContact calls per second, every door, both functions and every container together (the shared pacer, which lowers its rate by itself while another caller shares the quota); raise only with Connect's quota: a number from 0.1 to 1000.
   * @default 2
   */
  readonly transferRatePerSecond?: number;
  /**
   * Calls the pacer lets go at once after a quiet spell; keep it below Connect's burst (5 by default): a whole number from 1 to 100.
   * @default 2
   */
  readonly transferBurst?: number;
  /**
   * The `source` of the `Contact Transferred`, `Contact Transfer Failed` and `Contact Transfer Skipped` events: a custom EventBridge source of at most 256 characters, not starting with "aws.".
   * @default "contact-transfer-gateway"
   */
  readonly transferEventSource?: string;
  /**
   * Each function's memory in MB (Lambda gives CPU in proportion): a whole number from 128 to 10240.
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * The API stage; API Gateway events must name it: an API Gateway stage name (letters, digits, _ and -).
   * @default "prod"
   */
  readonly stageName?: string;
}

/** The settings after validation, defaults applied: what CDK context parsing returns and the construct builds from. */
export interface GatewaySettings {
  /** The instance `connectInstanceArn` names. */
  readonly connectInstance: ConnectInstance;
  /**
   * The one Amazon Connect instance this gateway serves (the stack deploys to its account and Region): an Amazon Connect instance ARN, arn:<partition>:connect:<region>:<account>:instance/<instanceId>.
   */
  readonly connectInstanceArn: string;
  /**
   * Channels that may be transferred: a list, each one of TASK, EMAIL (the channels Amazon Connect's TransferContact accepts).
   */
  readonly allowedChannels: readonly string[];
  /**
   * Transfers allowed per contact tree: a whole number from 1 to 1000.
   */
  readonly maxTransfers: number;
  /**
   * EventBridge `source` values the transfer rule and the event door accept: a list, each a custom EventBridge source of at most 256 characters, not starting with "aws.".
   */
  readonly eventSources: readonly string[];
  /**
   * More accounts whose principals may call the API (they still need an identity policy): a list, each a 12-digit AWS account id.
   */
  readonly allowedAccounts: readonly string[];
  /**
   * An AWS Organizations id whose principals may call the API: an AWS Organizations id such as o-a1b2c3d4e5.
   */
  readonly allowedOrganizationId?: string;
  /**
   * API stage steady rate, requests per second: Connect's TransferContact quota (docs/configuration.md, "Why 2 requests/s, burst 5"): a number greater than 0 and at most 10000.
   */
  readonly throttlingRateLimit: number;
  /**
   * API stage burst (Connect's TransferContact burst): a whole number from 1 to 5000.
   */
  readonly throttlingBurstLimit: number;
  /**
   * Powertools log level of the function: one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL, SILENT.
   */
  readonly logLevel: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'CRITICAL' | 'SILENT';
  /**
   * Retention of the function's and the API's log groups, in days (CloudWatch Logs' values; 9999 keeps them forever): one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653, 9999.
   */
  readonly logRetentionDays: number;
  /**
   * How long flow, queue and user descriptions are cached per Lambda container; 0 turns the cache off: a whole number from 0 to 3600.
   */
  readonly metadataCacheTtlSeconds: number;
  /**
   * How long a successful transfer is replayed for its idempotency key: a whole number from 3600 to 604800.
   */
  readonly idempotencyTtlSeconds: number;
  /**
   * How long ledger records live (a task lives at most 7 days): a whole number from 30 to 3650.
   */
  readonly ledgerRetentionDays: number;
  /**
   * An existing SNS topic the alarms notify instead: an SNS topic ARN in the Region the gateway deploys to.
   */
  readonly alarmTopicArn?: string;
  /**
   * An address subscribed to the alarm topic (it must confirm the subscription): an e-mail address.
   */
  readonly alarmEmail?: string;
  /**
   * The buffer alarm fires when the oldest buffered request is this many seconds old: a whole number from 300 to 1209600.
   */
  readonly bufferAgeAlarmSeconds: number;
  /**
   * Active X-Ray tracing of the function and the API stage: true or false.
   */
  readonly tracing: boolean;
  /**
   * Interface VPC endpoints that alone may reach the API, which then is private: a list, each an interface VPC endpoint id (vpce-...).
   */
  readonly vpcEndpointIds: readonly string[];
  /**
   * The most TransferContact calls per second, every door, both functions and every container together (the shared pacer, which lowers its rate by itself while another caller shares the quota); raise only with Connect's quota: a number from 0.1 to 1000.
   */
  readonly transferRatePerSecond: number;
  /**
   * Calls the pacer lets go at once after a quiet spell; keep it below Connect's burst (5 by default): a whole number from 1 to 100.
   */
  readonly transferBurst: number;
  /**
   * The `source` of the `Contact Transferred`, `Contact Transfer Failed` and `Contact Transfer Skipped` events: a custom EventBridge source of at most 256 characters, not starting with "aws.".
   */
  readonly transferEventSource: string;
  /**
   * Each function's memory in MB (Lambda gives CPU in proportion): a whole number from 128 to 10240.
   */
  readonly memorySize: number;
  /**
   * The API stage; API Gateway events must name it: an API Gateway stage name (letters, digits, _ and -).
   */
  readonly stageName: string;
}
