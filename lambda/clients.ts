import { ConnectClient } from '@aws-sdk/client-connect';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { StandardRetryStrategy } from '@smithy/core/retry';
import type { GatewayConfig } from './config';

/**
 * The SDK clients a gateway talks through. One it is not given it builds with `createGatewayClients(config)`, which
 * leaves endpoints, Region and credentials to the SDK's own reading of the process environment: right for the
 * deployed function (Lambda's environment is its configuration), wrong for two gateways in one process.
 */
export interface GatewayClients {
  readonly connect?: ConnectClient;
  /** TransferContact's own client: the SDK's retries less a throttle's, which the shared pacer schedules instead. */
  readonly connectTransfer?: ConnectClient;
  readonly dynamodb?: DynamoDBClient;
  /** The event door's buffer, whose failed records it sets to return after a backoff. */
  readonly sqs?: SQSClient;
  /** EventBridge Scheduler, where scheduled transfers wait (contract section 12). */
  readonly scheduler?: SchedulerClient;
}

/**
 * Where a gateway's clients connect and how they sign, given explicitly so that a process can run gateways pointed at
 * different services side by side (local mode, the tests). Anything left out the SDK reads from the environment.
 */
export interface SdkClientSettings {
  /** DynamoDB's Region; Connect is always called in the instance's own. */
  readonly region?: string;
  readonly endpoints?: { readonly connect?: string; readonly dynamodb?: string; readonly sqs?: string; readonly scheduler?: string };
  readonly credentials?: DynamoDBClientConfig['credentials'];
}

/**
 * Options of the SDK clients the gateway builds. `cacheMiddleware` resolves each command's middleware stack once per
 * container instead of on every request; nothing modifies the stacks after the first request.
 */
const SDK_CLIENT_OPTIONS = { cacheMiddleware: true } as const;

/**
 * The SDK's logger middleware copies every request and response through their schemas, masking sensitive members,
 * before handing them to the client's logger, which by default (and here) discards them: a schema walk per request
 * for nothing. No client option turns it off; removing it from the stack does.
 */
function withoutLogFiltering<Client extends ConnectClient | DynamoDBClient | SQSClient | SchedulerClient>(client: Client): Client {
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}

/** The clients as the function uses them; `settings` override what the SDK would read from the environment. */
export function createGatewayClients(config: GatewayConfig, settings: SdkClientSettings = {}): Required<GatewayClients> {
  return {
    connect: connectClientOf(config, settings),
    connectTransfer: connectTransferClientOf(config, settings),
    dynamodb: dynamoDbClientOf(settings),
    sqs: sqsClientOf(config, settings),
    scheduler: schedulerClientOf(settings),
  };
}

/** The SDK's standard attempts of one call. */
const TRANSFER_ATTEMPTS = 3;

/**
 * The SDK's standard retries (a network error, a 5xx) less the retry of a throttle. A throttled TransferContact is
 * sent again in a later slot of the shared pacer, which every container and both doors draw on: an SDK retry would
 * spend, within a second and before the pacer heard of the throttle, the quota that another caller in the account
 * is using.
 */
export class ThrottleLeftToThePacer extends StandardRetryStrategy {
  override refreshRetryTokenForRetry(...[token, errorInfo]: Parameters<StandardRetryStrategy['refreshRetryTokenForRetry']>): ReturnType<StandardRetryStrategy['refreshRetryTokenForRetry']> {
    if (errorInfo.errorType === 'THROTTLING') return Promise.reject(new Error('A throttled TransferContact is sent again in a slot of the shared pacer'));
    return super.refreshRetryTokenForRetry(token, errorInfo);
  }
}

/** TransferContact's client: the SDK's retries less a throttle's (ThrottleLeftToThePacer). */
export function connectTransferClientOf(config: GatewayConfig, settings: SdkClientSettings): ConnectClient {
  return connectClientOf(config, settings, { retryStrategy: new ThrottleLeftToThePacer(TRANSFER_ATTEMPTS) });
}

export function connectClientOf(
  config: GatewayConfig,
  { endpoints, credentials }: SdkClientSettings,
  retries: { readonly retryStrategy?: StandardRetryStrategy } = {},
): ConnectClient {
  // Connect is called in the instance's own Region, wherever the function runs.
  return withoutLogFiltering(
    new ConnectClient({
      ...SDK_CLIENT_OPTIONS,
      ...retries,
      region: config.instance.region,
      ...(credentials && { credentials }),
      ...(endpoints?.connect && { endpoint: endpoints.connect }),
    }),
  );
}

export function dynamoDbClientOf({ region, endpoints, credentials }: SdkClientSettings): DynamoDBClient {
  return withoutLogFiltering(
    new DynamoDBClient({ ...SDK_CLIENT_OPTIONS, ...(region && { region }), ...(credentials && { credentials }), ...(endpoints?.dynamodb && { endpoint: endpoints.dynamodb }) }),
  );
}

/**
 * The buffer's client, in the queue's own Region (an event source mapping's queue is in the function's). The queue
 * URL derived from the ARN would otherwise redirect calls to SQS's public host even where an endpoint is configured.
 */
export function sqsClientOf(config: GatewayConfig, { region, endpoints, credentials }: SdkClientSettings): SQSClient {
  const queueRegion = config.eventBuffer?.queueArn.split(':')[3] ?? region;
  return withoutLogFiltering(
    new SQSClient({
      ...SDK_CLIENT_OPTIONS,
      useQueueUrlAsEndpoint: false,
      ...(queueRegion && { region: queueRegion }),
      ...(credentials && { credentials }),
      ...(endpoints?.sqs && { endpoint: endpoints.sqs }),
    }),
  );
}

/** EventBridge Scheduler in the function's own Region, where the stack's schedule group is. */
export function schedulerClientOf({ region, endpoints, credentials }: SdkClientSettings): SchedulerClient {
  return withoutLogFiltering(
    new SchedulerClient({ ...SDK_CLIENT_OPTIONS, ...(region && { region }), ...(credentials && { credentials }), ...(endpoints?.scheduler && { endpoint: endpoints.scheduler }) }),
  );
}
