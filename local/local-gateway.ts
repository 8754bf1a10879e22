import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyResult, Context, SQSEvent } from 'aws-lambda';
import { ENV, loadConfig } from '../lambda/config';
import { TRANSFER_DETAIL_TYPE } from '../lambda/event-buffer';
import { HISTORY_RESOURCE } from '../lambda/domain/history';
import { SCHEDULE_RESOURCE, SCHEDULES_RESOURCE } from '../lambda/domain/schedule';
import { createGateway, createGatewayClients } from '../lambda/gateway';
import type { GatewayClients } from '../lambda/gateway';
import { EVENT_BUFFER } from '../lambda/event-buffer';
import { openApiDocument } from '../lib/openapi';
import { TRANSFER_EVENTS_SOURCE_DEFAULT } from '../lib/transfer-events';
import { startConnectSimulator } from '../simulator/connect-simulator';
import type { ConnectQuotas, ConnectSimulator } from '../simulator/connect-simulator';
import type { Seed } from '../simulator/seed';
import { closeServer, listen, readBody } from './http-server';
import { createGatewayTables, startEmbeddedDynamoDb } from './embedded-dynamodb';
import type { EmbeddedDynamoDb } from './embedded-dynamodb';
import { EventSourceMappingModel, QueueModel, containerPool } from './buffered-delivery';
import { startTransferEvents } from './event-pipes';
import { startBackstops } from './backstops';
import { DEAD_LETTER_DOOR, SWEEP } from '../lib/backstops';
import type { SweepReport } from '../lambda/doors/sweep';
import type { PublishedEvent } from './event-pipes';
import { apiGatewayProxyEvent, eventBridgeEvent, LOCAL_API_ENVIRONMENT } from './lambda-events';
import { startLocalLambdaRuntime } from './lambda-runtime';
import { sdkSettingsFrom } from './sdk-settings';
import { startSqsEndpoint } from './sqs-endpoint';
import { SchedulerModel, startSchedulerEndpoint } from './scheduler-endpoint';
import type { SchedulerClock } from './scheduler-endpoint';
import type { LocalInvoke } from './lambda-runtime';

export interface LocalGatewayOptions {
  readonly port?: number;
  readonly host?: string;
  /** Seeds the embedded Connect simulator; ignored when AWS_ENDPOINT_URL_CONNECT names another Connect. */
  readonly seed?: Seed;
  readonly env?: NodeJS.ProcessEnv;
  readonly eventSources?: readonly string[];
  /** The embedded simulator's quotas. @default Connect's defaults (TransferContact 2/s, burst 5) */
  readonly connectQuotas?: ConnectQuotas;
  /** Called with each `Contact Transferred` / `Contact Transfer Failed` event the gateway publishes. */
  readonly onPublished?: (event: PublishedEvent) => void;
  /** Called with the answer of each sweep that found something due (lambda/doors/sweep.ts). */
  readonly onSwept?: (report: SweepReport) => void;
  /** The local scheduler's clock; a test moves it instead of waiting. @default the wall clock */
  readonly schedulerClock?: SchedulerClock;
}

export interface LocalGateway {
  readonly url: string;
  readonly instanceArn: string;
  /** Present when local mode runs its own simulator / DynamoDB rather than an endpoint it was given. */
  readonly connect?: ConnectSimulator;
  readonly dynamodb?: EmbeddedDynamoDb;
  readonly connectEndpoint: string;
  readonly dynamodbEndpoint: string;
  /** The tables the gateway uses, created unless they existed. */
  readonly tables: { readonly idempotency: string; readonly ledger: string; readonly schedules?: string };
  /** The local model of EventBridge Scheduler: the schedules waiting, and `fireDue` for a test that moved its clock. */
  readonly scheduler: SchedulerModel;
  /** Everything published so far, as `GET /events/published` lists it. */
  readonly published: readonly PublishedEvent[];
  close(): Promise<void>;
}

/** The local event buffer, with the stack's numbers (lambda/event-buffer.ts) and AWS's waits, uncompressed. */
const LOCAL_BUFFER_ARN = 'arn:aws:sqs:us-east-1:111122223333:contact-transfer-event-buffer';
const LOCAL_SWEEP_RULE_ARN = 'arn:aws:events:us-east-1:111122223333:rule/contact-transfer-sweep';
/** Local mode's rule delivers into the buffer without failing, so nothing names it; the dead-letter door needs one. */
const LOCAL_TRANSFER_RULE_ARN = 'arn:aws:events:us-east-1:111122223333:rule/contact-transfer-requests';
const LOCAL_FUNCTION_TIMEOUT_MS = 10_000;
/** How often the local scheduler looks for schedules whose time has come (EventBridge Scheduler fires within a minute). */
const LOCAL_SCHEDULER_TICK_MS = 1000;

/** Largest body local mode reads; the handler itself rejects anything over 16 KiB with the contract's error. */
const MAX_READ_BYTES = 1024 * 1024;

/** What local mode serves, path by method; the history's path carries the contact id. */
const ROUTES: Readonly<Record<string, readonly string[]>> = {
  '/contact/transfer': ['POST'],
  [SCHEDULES_RESOURCE]: ['POST', 'GET'],
  '/events': ['POST'],
  '/events/published': ['GET'],
  '/health': ['GET'],
  '/openapi.json': ['GET'],
};
const HISTORY_PATH = /^\/contact\/transfers\/([^/]+)$/;
const SCHEDULE_PATH = /^\/contact\/transfer\/schedules\/([^/]+)$/;
const SCHEDULE_METHODS: readonly string[] = ['GET', 'DELETE'];
const HISTORY_METHODS: readonly string[] = ['GET'];
/**
 * Local mode only, with the embedded simulator: an agent accepts a demo contact (POST, body {"UserId"}) or hands it back
 * to its queue (DELETE), so each condition of contract section 11 can be made to fail and to hold by hand.
 */
const AGENT_PATH = /^\/local\/contacts\/([^/]+)\/agent$/;
const AGENT_METHODS: readonly string[] = ['POST', 'DELETE'];

function describeRoutes(): string {
  return [...Object.entries(ROUTES), ['/contact/transfers/{ContactId}', HISTORY_METHODS] as const, [SCHEDULE_RESOURCE, SCHEDULE_METHODS] as const, ['/local/contacts/{ContactId}/agent', AGENT_METHODS] as const]
    .map(([path, methods]) => `${methods.join('/')} ${path}`)
    .join(', ');
}

/**
 * The gateway on one local port: the real service function behind an API Gateway-shaped door and PutEvents into
 * its event buffer, with an embedded Connect simulator and DynamoDB unless endpoints are given.
 */
export async function startLocalGateway(options: LocalGatewayOptions = {}): Promise<LocalGateway> {
  // First: the SDK calls below fix the kind of invocation store for the whole process.
  const runtime = await startLocalLambdaRuntime();
  // Read, never written: the gateway gets its configuration and its clients' endpoints passed in, so another
  // gateway in the same process (a test's, a second local mode) keeps its own.
  const env: Record<string, string | undefined> = { ...(options.env ?? process.env) };
  const started: { close(): Promise<void> }[] = [];
  try {
    let connect: ConnectSimulator | undefined;
    if (!env.AWS_ENDPOINT_URL_CONNECT) {
      connect = await startConnectSimulator({ ...(options.seed && { seed: options.seed }), ...(options.connectQuotas && { quotas: options.connectQuotas }) });
      started.push(connect);
      env.AWS_ENDPOINT_URL_CONNECT = connect.url;
      env[ENV.instanceArn] = connect.instanceArn;
    }
    let dynamodb: EmbeddedDynamoDb | undefined;
    if (!env.AWS_ENDPOINT_URL_DYNAMODB) {
      dynamodb = await startEmbeddedDynamoDb();
      started.push(dynamodb);
      env.AWS_ENDPOINT_URL_DYNAMODB = dynamodb.url;
    }
    env[ENV.instanceArn] ??= options.seed?.instance.arn;
    env[ENV.idempotencyTable] ??= 'contact-transfer-idempotency';
    env[ENV.ledgerTable] ??= 'contact-transfer-ledger';
    // The function takes only events of the API and sources its configuration names, as the stack configures it.
    for (const [name, value] of Object.entries(LOCAL_API_ENVIRONMENT)) env[name] ??= value;
    if (options.eventSources) env[ENV.eventSources] = options.eventSources.join(',');
    env[ENV.eventBufferQueueArn] ??= LOCAL_BUFFER_ARN;
    env[ENV.eventMaxReceives] ??= String(EVENT_BUFFER.maxReceiveCount);
    env[ENV.deadLetterQueueArn] ??= `${LOCAL_BUFFER_ARN}-dlq`;
    env[ENV.transferRuleArn] ??= LOCAL_TRANSFER_RULE_ARN;
    env[ENV.sweepRuleArn] ??= LOCAL_SWEEP_RULE_ARN;
    env[ENV.sweepAfterSeconds] ??= String(LOCAL_FUNCTION_TIMEOUT_MS / 1000 + SWEEP.marginSeconds);
    // Scheduled transfers as the stack wires them: one-time schedules that send to the event buffer.
    env[ENV.schedulesTable] ??= 'contact-transfer-schedules';
    env[ENV.scheduleGroupName] ??= 'contact-transfer-gateway';
    env[ENV.schedulerRoleArn] ??= 'arn:aws:iam::111122223333:role/contact-transfer-scheduler';
    env[ENV.scheduleTargetArn] ??= env[ENV.eventBufferQueueArn];
    env[ENV.scheduleDeadLetterArn] ??= `${LOCAL_BUFFER_ARN}-schedule-dlq`;

    const config = loadConfig(env);
    // The event door as deployed: the rule delivers into a buffer that the event source mapping drains, paced; the
    // function reaches the buffer over SQS's own protocol to set when a failed record returns.
    const deadLetters = new QueueModel({ arn: config.deadLetterQueueArn ?? `${LOCAL_BUFFER_ARN}-dlq`, visibilityTimeoutMs: DEAD_LETTER_DOOR.visibilityTimeoutSeconds * 1000 });
    const buffer = new QueueModel({
      arn: config.eventBuffer?.queueArn ?? LOCAL_BUFFER_ARN,
      visibilityTimeoutMs: EVENT_BUFFER.visibilityTimeoutSeconds * 1000,
      maxReceiveCount: EVENT_BUFFER.maxReceiveCount,
      deadLetterQueue: deadLetters,
    });
    if (!env.AWS_ENDPOINT_URL_SQS) {
      const sqs = await startSqsEndpoint([buffer]);
      started.push(sqs);
      env.AWS_ENDPOINT_URL_SQS = sqs.url;
    }
    // The local scheduler delivers a fired schedule as Scheduler's SQS target does: its Input becomes a buffer message.
    const scheduler = new SchedulerModel((targetArn, input) => {
      if (targetArn === buffer.arn) buffer.send(input);
    }, options.schedulerClock);
    scheduler.start(LOCAL_SCHEDULER_TICK_MS);
    started.push({ close: async () => scheduler.stop() });
    if (!env.AWS_ENDPOINT_URL_SCHEDULER) {
      const schedulerEndpoint = await startSchedulerEndpoint(scheduler);
      started.push(schedulerEndpoint);
      env.AWS_ENDPOINT_URL_SCHEDULER = schedulerEndpoint.url;
    }
    const sdk = sdkSettingsFrom(env);
    const containerClients = (): Required<GatewayClients> => createGatewayClients(config, sdk);
    const { dynamodb: localClient } = containerClients();
    await createGatewayTables(localClient, {
      idempotency: config.idempotencyTable,
      ledger: config.ledgerTable,
      ...(config.schedules && { schedules: config.schedules.table }),
    }).catch((error: unknown) => {
      // Tables an earlier run created on an external DynamoDB are fine to reuse.
      if (!(error instanceof Error && error.name === 'ResourceInUseException')) throw error;
    });

    const invoke = runtime.invoker(createGateway(config, containerClients()).service);
    const mapping = new EventSourceMappingModel({
      queue: buffer,
      handler: containerPool(() => runtime.invoker(createGateway(config, containerClients()).service) as (event: SQSEvent, context: Context) => Promise<unknown>),
      batchSize: EVENT_BUFFER.batchSize,
      maxConcurrency: EVENT_BUFFER.maxConcurrency,
      functionTimeoutMs: LOCAL_FUNCTION_TIMEOUT_MS,
    });
    mapping.start();
    started.push({ close: () => mapping.stop() });
    // The backstops as deployed: the dead-letter door drains the dead-letter queue, and the sweep runs on the schedule.
    const backstops = startBackstops({
      deadLetters,
      handler: runtime.invoker(createGateway(config, containerClients()).service),
      sweepRuleArn: config.sweep?.ruleArn ?? LOCAL_SWEEP_RULE_ARN,
      account: config.doors.account,
      sweepEveryMs: SWEEP.everyMinutes * 60_000,
      functionTimeoutMs: LOCAL_FUNCTION_TIMEOUT_MS,
      onSwept: (answer) => {
        const report = answer as SweepReport;
        if (report.due > 0) options.onSwept?.(report);
      },
    });
    started.push({ close: () => backstops.stop() });
    const events = startTransferEvents(localClient, config.ledgerTable, TRANSFER_EVENTS_SOURCE_DEFAULT);
    started.push({ close: () => events.stop() });
    if (options.onPublished) events.onPublish(options.onPublished);
    const door: LocalEventDoor = { buffer, deadLetters, published: events.published };

    const server = createServer((request, response) => {
      route(invoke, door, config.doors.eventSources, config.instance.account, request, response, connect).catch((error: unknown) => {
        sendError(response, 500, 'InternalServiceException', 'INTERNAL_ERROR', `Local mode failed: ${error instanceof Error ? error.message : String(error)}`);
      });
    });
    await listen(server, options.port ?? 3000, options.host ?? '127.0.0.1');
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://${options.host ?? '127.0.0.1'}:${port}`,
      instanceArn: config.instance.arn,
      ...(connect && { connect }),
      ...(dynamodb && { dynamodb }),
      connectEndpoint: env.AWS_ENDPOINT_URL_CONNECT,
      dynamodbEndpoint: env.AWS_ENDPOINT_URL_DYNAMODB,
      tables: { idempotency: config.idempotencyTable, ledger: config.ledgerTable, ...(config.schedules && { schedules: config.schedules.table }) },
      scheduler,
      published: events.published,
      close: async () => {
        await closeServer(server);
        // The buffer's drain and the stream first: they still talk to the simulator and DynamoDB.
        for (const service of [...started].reverse()) await service.close();
      },
    };
  } catch (error) {
    await Promise.all(started.map((service) => service.close()));
    throw error;
  }
}

interface LocalEventDoor {
  readonly buffer: QueueModel;
  readonly deadLetters: QueueModel;
  readonly published: readonly PublishedEvent[];
}

async function route(
  invoke: LocalInvoke,
  door: LocalEventDoor,
  eventSources: readonly string[],
  account: string,
  request: IncomingMessage,
  response: ServerResponse,
  simulator?: ConnectSimulator,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://local');
  const path = url.pathname;
  const historyOf = HISTORY_PATH.exec(path);
  const agentOf = AGENT_PATH.exec(path);
  const scheduleOf = SCHEDULE_PATH.exec(path);
  const methods = historyOf ? HISTORY_METHODS : agentOf ? AGENT_METHODS : scheduleOf ? SCHEDULE_METHODS : ROUTES[path];
  if (!methods) {
    return sendError(response, 404, 'ResourceNotFoundException', 'RESOURCE_NOT_FOUND', `Local mode serves ${describeRoutes()}; not ${path}.`);
  }
  if (!methods.includes(request.method ?? '')) {
    return sendError(response, 405, 'InvalidRequestException', 'METHOD_NOT_ALLOWED', `${path} takes ${methods.join(', ')}, not ${request.method ?? ''}.`, {
      Allow: methods.join(', '),
    });
  }
  const parameterOf = historyOf ?? scheduleOf;
  if (parameterOf) {
    let parameter: string;
    try {
      parameter = decodeURIComponent(parameterOf[1] ?? '');
    } catch {
      // API Gateway itself refuses a path it cannot decode before the function runs.
      return sendError(response, 400, 'InvalidRequestException', 'VALIDATION_FAILED', 'The path is not valid percent-encoding.');
    }
    const [resource, pathParameters] = historyOf ? [HISTORY_RESOURCE, { ContactId: parameter }] : [SCHEDULE_RESOURCE, { ScheduleId: parameter }];
    const event = apiGatewayProxyEvent({
      body: null,
      account,
      route: { method: request.method ?? 'GET', resource, path, pathParameters, query: Object.fromEntries(url.searchParams) },
    });
    return sendApiGatewayResult(response, (await invoke(event)) as APIGatewayProxyResult);
  }
  if (path === SCHEDULES_RESOURCE && request.method === 'GET') {
    const route = { method: 'GET', resource: SCHEDULES_RESOURCE, path, pathParameters: {}, query: Object.fromEntries(url.searchParams) };
    return sendApiGatewayResult(response, (await invoke(apiGatewayProxyEvent({ body: null, account, route }))) as APIGatewayProxyResult);
  }
  if (path === '/health') return sendJson(response, 200, { Status: 'OK' });
  if (path === '/events/published') {
    return sendJson(response, 200, { Buffered: door.buffer.size, DeadLettered: door.deadLetters.size, Events: door.published });
  }
  if (path === '/openapi.json') {
    // The committed description, with this server as the one to try requests against.
    return sendJson(response, 200, { ...openApiDocument(), servers: [{ url: `http://${request.headers.host ?? '127.0.0.1'}`, description: 'local mode (no SigV4 check)' }] });
  }
  const body = await readBody(request, MAX_READ_BYTES);
  if (body === undefined) {
    return sendError(response, 413, 'InvalidRequestException', 'VALIDATION_FAILED', `The body is larger than ${MAX_READ_BYTES / 1024} KiB; a request is at most 16 KiB.`);
  }

  if (agentOf) return assignAgent(simulator, decodeURIComponent(agentOf[1] ?? ''), request.method === 'DELETE' ? undefined : body, response);
  if (path === '/contact/transfer') {
    return sendApiGatewayResult(response, (await invoke(apiGatewayProxyEvent({ body, headers: sentHeaders(request), account }))) as APIGatewayProxyResult);
  }
  if (path === SCHEDULES_RESOURCE) {
    const route = { method: 'POST', resource: SCHEDULES_RESOURCE, path, pathParameters: {} };
    return sendApiGatewayResult(response, (await invoke(apiGatewayProxyEvent({ body, headers: sentHeaders(request), account, route }))) as APIGatewayProxyResult);
  }
  return sendJson(response, 200, putEvents(door.buffer, eventSources, account, body));
}

function assignAgent(simulator: ConnectSimulator | undefined, contactId: string, body: string | undefined, response: ServerResponse): void {
  if (!simulator) return sendError(response, 404, 'ResourceNotFoundException', 'RESOURCE_NOT_FOUND', 'Agents can be assigned only with the embedded Connect simulator.');
  let userId: string | undefined;
  if (body !== undefined) {
    try {
      const parsed = JSON.parse(body) as { UserId?: unknown };
      if (typeof parsed.UserId !== 'string') throw new Error('UserId');
      userId = parsed.UserId;
    } catch {
      return sendError(response, 400, 'InvalidRequestException', 'VALIDATION_FAILED', 'The body must be {"UserId": "<a user of the seed>"}.');
    }
  }
  try {
    const contact = simulator.assignAgent(contactId, userId);
    return sendJson(response, 200, { ContactId: contact.Id, QueueId: contact.QueueId, AgentId: contact.AgentId });
  } catch (error) {
    return sendError(response, 404, 'ResourceNotFoundException', 'RESOURCE_NOT_FOUND', error instanceof Error ? error.message : String(error));
  }
}

/**
 * Every header line as sent, each value kept: Node's `request.headers` joins a repeated header into one value with
 * ", ", which would turn two different Idempotency-Key headers into one token. API Gateway passes them all.
 */
function sentHeaders(request: IncomingMessage): Record<string, string[]> {
  const headers: Record<string, string[]> = {};
  const raw = request.rawHeaders;
  for (let index = 0; index + 1 < raw.length; index += 2) {
    (headers[raw[index] ?? ''] ??= []).push(raw[index + 1] ?? '');
  }
  return headers;
}

interface PutEventsEntry {
  readonly Source: string;
  readonly DetailType: string;
  readonly Detail: string;
}

/** Whatever an entry is (null, a number, an object missing a member), a bad one is that entry's error, as in PutEvents. */
function isPutEventsEntry(entry: unknown): entry is PutEventsEntry {
  if (typeof entry !== 'object' || entry === null) return false;
  const { Source, DetailType, Detail } = entry as Record<string, unknown>;
  return typeof Source === 'string' && typeof DetailType === 'string' && typeof Detail === 'string';
}

/**
 * PutEvents semantics for the one rule the stack owns: entries that match are delivered into the event buffer, as
 * the rule's SQS target delivers them, and drained by the event source mapping at the gateway's pace. Like PutEvents,
 * the answer says only what was accepted; the outcome is a published event (`GET /events/published`).
 */
function putEvents(buffer: QueueModel, eventSources: readonly string[], account: string, body: string): Record<string, unknown> {
  let entries: unknown[];
  try {
    const parsed = JSON.parse(body) as { Entries?: unknown } | null;
    if (!Array.isArray(parsed?.Entries) || parsed.Entries.length === 0 || parsed.Entries.length > 10) throw new Error();
    entries = parsed.Entries as unknown[];
  } catch {
    return { FailedEntryCount: 1, Entries: [{ ErrorCode: 'ValidationException', ErrorMessage: 'The body must be {"Entries": [...]} with 1 to 10 entries.' }] };
  }
  const results = entries.map((entry: unknown) => {
    if (!isPutEventsEntry(entry)) {
      return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Source, DetailType and Detail (a JSON string) are required.' };
    }
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail);
    } catch {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is not valid JSON.' };
    }
    const event = eventBridgeEvent(detail, { source: entry.Source, account });
    if (entry.DetailType !== TRANSFER_DETAIL_TYPE || !eventSources.includes(entry.Source)) {
      return { EventId: event.id, Delivery: { Matched: false } };
    }
    buffer.send(JSON.stringify(event));
    return { EventId: event.id, Delivery: { Matched: true, Buffered: true } };
  });
  return { FailedEntryCount: results.filter((result) => 'ErrorCode' in result).length, Entries: results };
}

function sendApiGatewayResult(response: ServerResponse, result: APIGatewayProxyResult): void {
  response.writeHead(result.statusCode, { ...(result.headers as Record<string, string> | undefined) });
  response.end(result.body);
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

/** Local mode's own refusals in the contract's error shape (section 5), so a client parses one format. */
function sendError(response: ServerResponse, status: number, type: string, reason: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(response, status, { Type: type, ReasonCode: reason, Message: message }, { 'x-amzn-ErrorType': type, ...headers });
}
