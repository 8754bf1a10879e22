import { randomUUID } from 'node:crypto';
import { DeleteItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { TransferEvent } from '../../lambda/doors/sqs';
import { loadConfig } from '../../lambda/config';
import type { GatewayConfig } from '../../lambda/config';
import { createGateway, createGatewayClients } from '../../lambda/gateway';
import type { DirectHandler, ServiceHandler } from '../../lambda/gateway';
import { pacerKeyOf } from '../../lambda/adapters/pacer-budget';
import { IDEMPOTENCY_TABLE } from '../../lambda/tables';
import { createGatewayTables, startEmbeddedDynamoDb } from '../../local/embedded-dynamodb';
import { apiGatewayProxyEvent, eventBridgeEvent, LOCAL_API_ENVIRONMENT } from '../../local/lambda-events';
import type { EmbeddedDynamoDb } from '../../local/embedded-dynamodb';
import { sdkSettingsFrom } from '../../local/sdk-settings';
import { startSqsEndpoint } from '../../local/sqs-endpoint';
import { EVENT_BUFFER } from '../../lambda/event-buffer';
import { startConnectSimulator, UNLIMITED } from '../../simulator/connect-simulator';
import type { ConnectQuotas } from '../../simulator/connect-simulator';
import type { ConnectSimulator } from '../../simulator/connect-simulator';
import type { Seed } from '../../simulator/seed';

/**
 * The gateway as deployed minus AWS: real SDK clients over HTTP, pointed at the Connect simulator and an embedded
 * DynamoDB, exactly as in local mode and as the bundle would be. Nothing is written into process.env: each harness's
 * gateways get their configuration and clients passed in, so harnesses run side by side in one process.
 */
export interface GatewayHarness {
  readonly connect: ConnectSimulator;
  readonly dynamodb: EmbeddedDynamoDb;
  /** The function's environment, as the stack would set it (and as a child process running the bundle gets it). */
  readonly env: Record<string, string>;
  readonly config: GatewayConfig;
  /**
   * A fresh container: new caches, new clients, same tables. `overrides` change its environment, including where its
   * clients connect (AWS_ENDPOINT_URL_CONNECT, AWS_ENDPOINT_URL_DYNAMODB, for a proxy in between).
   */
  newContainer(overrides?: Record<string, string>): GatewayContainer;
  /** A client of the harness's DynamoDB (or of `endpoint`, a proxy in front of it), as a test reads the tables. */
  dynamodbClient(endpoint?: string): DynamoDBClient;
  /**
   * Forgets the shared pacer's budget: a test that made Connect throttle has pushed every later slot back (as it
   * should in AWS), which would slow the tests after it down.
   */
  resetPacer(): Promise<void>;
  close(): Promise<void>;
}

/**
 * One container of the bundle: called, it is the service function (API Gateway, the buffer, the dead-letter queue,
 * the sweep); `direct` is the direct-invocation function's handler from the same container.
 */
export type GatewayContainer = ServiceHandler & { readonly direct: DirectHandler };

export interface GatewayHarnessOptions {
  readonly seed?: Seed;
  readonly env?: Record<string, string>;
  /** Connect's quotas; suites that fire many requests at once keep the default, none. @default UNLIMITED */
  readonly quotas?: ConnectQuotas;
}

/** Every ledger item of one partition (`TREE#<tree>`, `CONTACT#<contact>`), read as a test inspects the ledger. */
export async function ledgerItems(harness: GatewayHarness, partitionKey: string): Promise<Record<string, unknown>[]> {
  const client = harness.dynamodbClient();
  const output = await client.send(
    new QueryCommand({
      TableName: harness.config.ledgerTable,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: partitionKey } },
    }),
  );
  return (output.Items ?? []).map((item) => unmarshall(item));
}

/** The buffer queue the harness's gateways drain, as the stack names its own queue to the function. */
export const TEST_BUFFER_ARN = 'arn:aws:sqs:us-east-1:111122223333:test-event-buffer';
/** The rule delivering into the buffer, whose delivery failures the dead-letter door answers. */
export const TEST_TRANSFER_RULE_ARN = 'arn:aws:events:us-east-1:111122223333:rule/transfer-rule';

export async function startGatewayHarness(options: GatewayHarnessOptions = {}): Promise<GatewayHarness> {
  const [connect, dynamodb, sqs] = await Promise.all([
    startConnectSimulator({ ...(options.seed && { seed: options.seed }), quotas: options.quotas ?? UNLIMITED }),
    startEmbeddedDynamoDb(),
    // No queue behind it: the harness's SQS records are built by hand (test/support/doors.ts), so a backoff the
    // function sets on one is refused and the record falls back to the visibility timeout, as it would in AWS. The
    // event door's suites give their containers a front on their queue models instead. Either way nothing leaves
    // the machine.
    startSqsEndpoint([]),
  ]);
  const suffix = randomUUID().slice(0, 8);
  const env: Record<string, string> = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDLOCALGATEWAY',
    AWS_SECRET_ACCESS_KEY: 'local-secret',
    AWS_ENDPOINT_URL_CONNECT: connect.url,
    AWS_ENDPOINT_URL_DYNAMODB: dynamodb.url,
    AWS_ENDPOINT_URL_SQS: sqs.url,
    CONNECT_INSTANCE_ARN: connect.instanceArn,
    IDEMPOTENCY_TABLE_NAME: `idempotency-${suffix}`,
    LEDGER_TABLE_NAME: `ledger-${suffix}`,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    // The API the event builders stand in for, as the stack names its own REST API to the function.
    ...LOCAL_API_ENVIRONMENT,
    // The event door's buffer, so SQS records built for it (test/support/doors.ts) reach the handler as that door.
    EVENT_BUFFER_QUEUE_ARN: TEST_BUFFER_ARN,
    EVENT_MAX_RECEIVES: String(EVENT_BUFFER.maxReceiveCount),
    // Without a Connect quota there is nothing to pace to; suites about pacing set both.
    TRANSFER_RATE_PER_SECOND: '1000',
    TRANSFER_BURST: '100',
    ...options.env,
  };
  const config = loadConfig(env);
  const dynamodbClient = (endpoint = dynamodb.url): DynamoDBClient =>
    createGatewayClients(config, sdkSettingsFrom({ ...env, AWS_ENDPOINT_URL_DYNAMODB: endpoint })).dynamodb;
  await createGatewayTables(dynamodbClient(), { idempotency: config.idempotencyTable, ledger: config.ledgerTable, ...(config.schedules && { schedules: config.schedules.table }) });
  return {
    connect,
    dynamodb,
    env,
    config,
    newContainer: (overrides = {}) => {
      const containerEnv = { ...env, ...overrides };
      const containerConfig = loadConfig(containerEnv);
      const { service, direct } = createGateway(containerConfig, createGatewayClients(containerConfig, sdkSettingsFrom(containerEnv)));
      return Object.assign(service, { direct });
    },
    dynamodbClient,
    resetPacer: async () => {
      await dynamodbClient().send(new DeleteItemCommand({ TableName: config.idempotencyTable, Key: { [IDEMPOTENCY_TABLE.partitionKey]: { S: pacerKeyOf(config.instance) } } }));
    },
    close: async () => {
      await Promise.all([connect.close(), dynamodb.close(), sqs.close()]);
    },
  };
}

export { lambdaContext } from '../../local/lambda-events';

const TEST_CALLER_ARN = 'arn:aws:sts::111122223333:assumed-role/internal-app/app';

export function httpEvent(body: unknown, headers: Record<string, string> = {}): APIGatewayProxyEvent {
  return apiGatewayProxyEvent({
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'Content-Type': 'application/json', ...headers },
    callerArn: TEST_CALLER_ARN,
  });
}

export function transferEvent(detail: unknown, id?: string, source?: string): TransferEvent {
  return eventBridgeEvent(detail, { ...(id !== undefined && { id }), ...(source !== undefined && { source }) });
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Record<string, unknown>;
}

/** Reads a handler's API Gateway answer the way a caller would. */
export function asHttp(result: unknown): HttpAnswer {
  const response = result as APIGatewayProxyResult;
  return {
    status: response.statusCode,
    headers: Object.fromEntries(Object.entries(response.headers ?? {}).map(([name, value]) => [name, String(value)])),
    body: JSON.parse(response.body) as Record<string, unknown>,
  };
}
