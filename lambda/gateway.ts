import { AsyncLocalStorage } from 'node:async_hooks';
import { ConnectClient } from '@aws-sdk/client-connect';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context, SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { returnDelayFor } from '../lib/event-buffer';
import { BufferVisibility } from './adapters/buffer-visibility';
import { ConnectAdapter } from './adapters/connect';
import { DynamoDbFailureLog } from './adapters/failure-records';
import type { FailureError, FailureOutcome } from './adapters/failure-records';
import { PowertoolsIdempotency } from './adapters/idempotency';
import { DynamoDbTransferHistory } from './adapters/history';
import { DynamoDbLedger } from './adapters/ledger';
import { DynamoDbPendingSlots } from './adapters/pending-slots';
import { DynamoDbPacer } from './adapters/transfer-pacer';
import type { GatewayConfig } from './config';
import { TransferError } from './domain/errors';
import { idempotencyKeysOf } from './domain/idempotency-keys';
import { parseTransferRequest } from './domain/request';
import type { Door } from './doors/door';
import { deadLetterErrorOf } from './doors/dead-letters';
import { directDoor } from './doors/direct';
import { eventBridgeDoor, isEventBridgeEvent } from './doors/eventbridge';
import type { EventResult } from './doors/eventbridge';
import { historyQueryOf, historyResponse, isHistoryRequest } from './doors/history';
import { httpDoor, isApiGatewayEvent } from './doors/http';
import { isBufferEvent, originalRequestOf, receiveCountOf, serveBuffer, trustedBufferedRecordDoor } from './doors/sqs';
import { isSweepEvent, sweepPendingIntents } from './doors/sweep';
import type { SweepReport } from './doors/sweep';
import { logger, metrics, reportConnectThrottle, reportOutcome } from './observability';
import type { TransferResult } from './ports';
import type { TransferRequest } from './domain/request';
import { TransferContactUseCase } from './usecase/transfer-contact';
import type { ExecuteOptions } from './usecase/transfer-contact';

export type GatewayResponse = APIGatewayProxyResult | EventResult | TransferResult | SQSBatchResponse | SweepReport;

/** A buffered record whose transfer happened but is not yet in the ledger: returned to the buffer to be recorded. */
class UnrecordedTransfer extends Error {
  constructor() {
    super('The transfer happened but the ledger did not record it; the record returns to the buffer so a replay records it.');
    this.name = 'UnrecordedTransfer';
  }
}

/**
 * Kept free after the pacer's slot for TransferContact itself (the SDK's retries of a throttle take up to ~2 s) and
 * the records that follow; a slot later than the invocation's end less this is not taken.
 */
const AFTER_SLOT_MS = 3000;
/** A throttle from Connect despite the pacing means another caller used the quota: every container waits this much more. */
const CONNECT_THROTTLE_BACKOFF_MS = 1000;
/** A buffered record that Connect throttled is tried again inside the invocation while this much time is left. */
const RETRY_INSIDE_INVOCATION_MS = 5000;
const PACED_OUT = 'The gateway\'s share of Amazon Connect\'s TransferContact quota is taken for longer than this request can wait; retry later.';
export type GatewayHandler = (event: unknown, context: Context) => Promise<GatewayResponse>;

/** A failure the pacer caused: nothing was sent, and the record may come back soon (the doors turn it into `THROTTLED: <message>`). */
const isPacedOut = (failure: unknown): boolean => failure instanceof Error && failure.message === `THROTTLED: ${PACED_OUT}`;

/**
 * The SDK clients a gateway talks through. One it is not given it builds with `createGatewayClients(config)`, which
 * leaves endpoints, Region and credentials to the SDK's own reading of the process environment: right for the
 * deployed function (Lambda's environment is its configuration), wrong for two gateways in one process.
 */
export interface GatewayClients {
  readonly connect?: ConnectClient;
  readonly dynamodb?: DynamoDBClient;
  /** The event door's buffer, whose failed records it sets to return after a backoff. */
  readonly sqs?: SQSClient;
}

/**
 * Where a gateway's clients connect and how they sign, given explicitly so that a process can run gateways pointed at
 * different services side by side (local mode, the tests). Anything left out the SDK reads from the environment.
 */
export interface SdkClientSettings {
  /** DynamoDB's Region; Connect is always called in the instance's own. */
  readonly region?: string;
  readonly endpoints?: { readonly connect?: string; readonly dynamodb?: string; readonly sqs?: string };
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
function withoutLogFiltering<Client extends ConnectClient | DynamoDBClient | SQSClient>(client: Client): Client {
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}

/** The clients as the function uses them; `settings` override what the SDK would read from the environment. */
export function createGatewayClients(config: GatewayConfig, settings: SdkClientSettings = {}): Required<GatewayClients> {
  return { connect: connectClientOf(config, settings), dynamodb: dynamoDbClientOf(settings), sqs: sqsClientOf(config, settings) };
}

function connectClientOf(config: GatewayConfig, { endpoints, credentials }: SdkClientSettings): ConnectClient {
  // Connect is called in the instance's own Region, wherever the function runs.
  return withoutLogFiltering(
    new ConnectClient({ ...SDK_CLIENT_OPTIONS, region: config.instance.region, ...(credentials && { credentials }), ...(endpoints?.connect && { endpoint: endpoints.connect }) }),
  );
}

function dynamoDbClientOf({ region, endpoints, credentials }: SdkClientSettings): DynamoDBClient {
  return withoutLogFiltering(
    new DynamoDBClient({ ...SDK_CLIENT_OPTIONS, ...(region && { region }), ...(credentials && { credentials }), ...(endpoints?.dynamodb && { endpoint: endpoints.dynamodb }) }),
  );
}

/**
 * The buffer's client, in the queue's own Region (an event source mapping's queue is in the function's). The queue
 * URL derived from the ARN would otherwise redirect calls to SQS's public host even where an endpoint is configured.
 */
function sqsClientOf(config: GatewayConfig, { region, endpoints, credentials }: SdkClientSettings): SQSClient {
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

/** Wires the adapters once per container and returns the Lambda handler that serves all three doors. */
export function createGateway(config: GatewayConfig, clients: GatewayClients = {}): GatewayHandler {
  const connectClient = clients.connect ?? connectClientOf(config, {});
  const dynamodb = clients.dynamodb ?? dynamoDbClientOf({});
  const idempotency = new PowertoolsIdempotency(dynamodb, config.idempotencyTable, config.idempotencyTtlSeconds);
  // One budget for this stack's doors and containers, in its own table (Connect counts per account and Region).
  const pacer = new DynamoDbPacer(dynamodb, config.idempotencyTable, config.pace, config.instance);
  /**
   * Per invocation (local mode and tests run invocations concurrently in one process): the latest a slot may come,
   * the invocation's end less AFTER_SLOT_MS, and a slot reserved early, while the HTTPS door's look-ups run.
   */
  const invocation = new AsyncLocalStorage<{ readonly deadline: number; early?: Promise<number | undefined> }>();
  const connect = new ConnectAdapter(
    connectClient,
    config.instance,
    {
      metadataCacheTtlMs: config.metadataCacheTtlMs,
      beforeTransfer: async () => {
        const current = invocation.getStore();
        const early = current?.early;
        if (current) current.early = undefined;
        let sendAt: number | undefined;
        try {
          sendAt = await (early ?? pacer.reserve(current?.deadline ?? Date.now()));
        } catch (error) {
          // Pacing fails open: Connect's own quota still holds, and the idempotency record already guards the transfer.
          logger.warn('The shared pacer could not be reached; calling Connect unpaced', { error });
          return;
        }
        if (sendAt === undefined) throw TransferError.of('THROTTLED', { message: PACED_OUT });
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, sendAt - Date.now())));
      },
    },
    (operation) => {
      reportConnectThrottle(operation);
      if (operation === 'TransferContact') {
        pacer.slowDown(CONNECT_THROTTLE_BACKOFF_MS).catch((error: unknown) => logger.warn('Could not slow the shared pacer down', { error }));
      }
    },
  );
  const failures = new DynamoDbFailureLog(dynamodb, config.ledgerTable, config.ledgerRetentionDays);
  const ledger = new DynamoDbLedger(dynamodb, config.ledgerTable, config.ledgerRetentionDays);
  const useCase = new TransferContactUseCase({
    instance: config.instance,
    policy: { allowedChannels: config.allowedChannels, maxTransfers: config.maxTransfers },
    connect,
    ledger,
    idempotency,
    alert: (message, details) => logger.error(message, details),
    skipAnswerMs: config.idempotencyTtlSeconds * 1000,
  });

  const history = new DynamoDbTransferHistory(dynamodb, config.ledgerTable);

  /** `GET /contact/transfers/{ContactId}`: a read, so no idempotency and nothing of Connect's. */
  async function serveHistory(event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> {
    const origin = httpDoor.origin(event, context);
    logger.appendKeys({ correlationId: origin.correlationId });
    try {
      const page = await history.list(historyQueryOf(event));
      logger.info('history', { contactId: event.pathParameters?.ContactId, transfers: page.Transfers.length, more: page.NextToken !== undefined });
      return historyResponse(page, origin);
    } catch (caught) {
      const error = caught instanceof TransferError ? caught : TransferError.of('INTERNAL_ERROR', { message: 'The gateway could not read the transfer history; retry later.', cause: caught });
      if (error.retryable) logger.error('history', { reason: error.reason, error: error.cause ?? error });
      else logger.info('history', { reason: error.reason, status: error.status });
      return httpDoor.failed(error, origin);
    }
  }

  /**
   * HTTPS, direct and EventBridge-shaped invocations reserve their slot while the lock and the look-ups run, so pacing
   * adds no sequential stage; a slot the request ends up not using (rejected, replayed) is given back. The buffered door
   * reserves only once its rules passed: there latency matters less than the quota.
   */
  function reserveEarly(): void {
    const current = invocation.getStore();
    if (!current) return;
    current.early = pacer.reserve(current.deadline);
    current.early.catch(() => undefined);
  }

  function releaseUnused(): void {
    const unused = invocation.getStore()?.early;
    if (!unused) return;
    unused
      .then((sendAt) => (sendAt === undefined ? undefined : pacer.release(sendAt)))
      .catch((error: unknown) => logger.warn('Could not give an unused pacing slot back', { error }));
  }

  async function serve<Event, Response>(door: Door<Event, Response>, event: Event, context: Context, options?: ExecuteOptions): Promise<Response> {
    const startedAt = Date.now();
    const origin = door.origin(event, context);
    logger.appendKeys({ correlationId: origin.correlationId });
    let contactId: string | undefined;
    try {
      const request = parseTransferRequest(door.input(event), config.instance);
      contactId = request.ContactId;
      if (!options?.lockBeforeLookups) reserveEarly();
      const outcome = await useCase.execute(request, origin, options);
      reportOutcome({ origin, contactId, startedAt, outcome });
      return door.succeeded(outcome, origin);
    } catch (caught) {
      const error = caught instanceof TransferError ? caught : TransferError.of('INTERNAL_ERROR', { cause: caught });
      reportOutcome({ origin, contactId, startedAt, error });
      return door.failed(error, origin);
    } finally {
      releaseUnused();
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  }

  /** The latest a pacing slot may come in an invocation: its end less what TransferContact and the rest need. */
  const slotDeadlineOf = (context: Context): number => Date.now() + context.getRemainingTimeInMillis() - AFTER_SLOT_MS;
  /** SQS dead-letters a record that fails on this receive. */
  const isLastReceive = (record: SQSRecord): boolean => receiveCountOf(record) >= (config.eventBuffer?.maxReceives ?? 1);

  const bufferedDoor = trustedBufferedRecordDoor(config.doors);
  const bufferVisibility = config.eventBuffer && new BufferVisibility(clients.sqs ?? sqsClientOf(config, {}), config.eventBuffer.queueArn);

  /**
   * A record about to be listed as a batch item failure: set when SQS delivers it again (lib/event-buffer.ts), a
   * backoff by its receive count, or soon when only the pacer turned it away (lib/event-buffer.ts says for how many
   * receives). The last receive is left as it is: the record goes to the dead-letter queue when its visibility timeout
   * ends. If SQS refuses, nothing is lost: the record is still reported as
   * failed and returns after the queue's visibility timeout.
   */
  async function returnLater(record: SQSRecord, failure: unknown): Promise<never> {
    const receiveCount = receiveCountOf(record);
    if (bufferVisibility && !isLastReceive(record)) {
      const pacedOut = isPacedOut(failure);
      const seconds = returnDelayFor(receiveCount, { pacedOut });
      try {
        await bufferVisibility.returnAfter(record.receiptHandle, seconds);
        logger.info('returned to the buffer', { receiveCount, returnsInSeconds: seconds, pacedOut });
      } catch (error) {
        logger.warn('Could not set when the record returns; it returns after the buffer\'s visibility timeout', { receiveCount, error });
      }
    }
    throw failure;
  }

  /**
   * One buffered event. The lock comes before the Describe calls, so a duplicate or a replay costs Connect nothing.
   * A Connect throttle is tried again while the invocation has time (the pacer has slowed every container down
   * meanwhile), rather than spending one of the message's receives; the last receive's failure is recorded for the
   * `Contact Transfer Failed` event before SQS dead-letters the message.
   */
  async function serveBufferedRecord(record: SQSRecord, context: Context): Promise<void> {
    const failed = (outcome: FailureOutcome, error: FailureError) =>
      failures.record({ outcome, request: originalRequestOf(record), error, origin: bufferedDoor.origin(record, context), at: new Date() });
    for (let attempt = 1; ; attempt += 1) {
      try {
        // Entered again per record: the batch processor's sequential loop does not carry the invocation's store along.
        const result = await invocation.run({ deadline: slotDeadlineOf(context) }, () =>
          serve(bufferedDoor, record, context, { lockBeforeLookups: true }),
        );
        // A failed condition is no failure: its ledger record becomes the Contact Transfer Skipped event instead.
        if (result.outcome === 'rejected' && result.ReasonCode !== 'CONDITION_NOT_MET') await failed('REJECTED', { type: result.Type, reason: result.ReasonCode, message: result.Message });
        // The transfer happened but the ledger (and so its event) does not hold it yet: SQS's redelivery is a replay
        // that records it. Not a failure of the request, so it is never recorded as one.
        if (result.outcome !== 'rejected' && result.unrecorded) throw new UnrecordedTransfer();
        return;
      } catch (failure) {
        if (failure instanceof UnrecordedTransfer) throw failure;
        const named = failure instanceof Error ? failure : new Error(String(failure));
        const [reason = 'INTERNAL_ERROR', ...rest] = named.message.split(': ');
        const message = rest.join(': ');
        const connectThrottled = reason === 'THROTTLED' && !isPacedOut(named);
        if (connectThrottled && attempt < 3 && context.getRemainingTimeInMillis() > RETRY_INSIDE_INVOCATION_MS) continue;
        if (isLastReceive(record)) {
          if (await mayHaveTransferred(record)) {
            // A transfer Connect may have accepted is never reported as failed (contract section 6).
            logger.error('A dead-lettered event holds a transfer intent Connect may have made: no failure event now; the sweeper settles the intent, then the dead-letter door publishes the outcome', {
              correlationId: bufferedDoor.origin(record, context).correlationId,
              reason,
            });
          } else {
            await failed('DEAD_LETTERED', { type: named.name, reason, message }).catch((error: unknown) =>
              logger.error('The failure record of a dead-lettered event was not written', { error }),
            );
          }
        }
        throw named;
      }
    }
  }

  /**
   * Whether Connect made this record's transfer: the ledger holds it as transferred; it may have, while the ledger
   * holds a pending intent, whatever the contact looks like (the contact may not show the transfer yet, and another
   * holder of the key may be sending it right now: only the use case, under the idempotency lock, settles an intent).
   * When that cannot be told, the answer is maybe too: a transfer that happened is never reported as failed.
   */
  async function transferStateOf(request: TransferRequest): Promise<'transferred' | 'maybe' | 'not'> {
    try {
      const { intent } = await ledger.read(request.ContactId, idempotencyKeysOf(request, config.instance.id).idempotencyKey);
      if (intent === undefined || intent.status === 'RELEASED') return 'not';
      return intent.status === 'TRANSFERRED' ? 'transferred' : 'maybe';
    } catch {
      return 'maybe';
    }
  }

  /** A request that rules 1-3 refuse never reached the use case, so it made no transfer. */
  const parsedOrUndefined = (record: SQSRecord): TransferRequest | undefined => {
    try {
      return parseTransferRequest(bufferedDoor.input(record), config.instance);
    } catch {
      return undefined;
    }
  };

  const mayHaveTransferred = async (record: SQSRecord): Promise<boolean> => {
    const request = parsedOrUndefined(record);
    return request !== undefined && (await transferStateOf(request)) !== 'not';
  };

  /**
   * One record of the dead-letter queue (lambda/doors/dead-letters.ts): its failure record, written once per event id
   * (a no-op when the last receive already wrote it), becomes the request's one `Contact Transfer Failed` event. A
   * request that rules 1-3 or the envelope checks refuse is recorded as that rejection. A transfer the ledger holds is
   * no failure at all; one Connect may have made is left to the sweeper, and its record returns to the queue until
   * the intent is settled. A record that cannot be written returns to the queue too.
   */
  async function serveDeadLetter(record: SQSRecord, context: Context): Promise<void> {
    const origin = bufferedDoor.origin(record, context);
    logger.appendKeys({ correlationId: origin.correlationId });
    let outcome: FailureOutcome = 'DEAD_LETTERED';
    let error: FailureError = deadLetterErrorOf(record);
    let request: TransferRequest | undefined;
    try {
      request = parseTransferRequest(bufferedDoor.input(record), config.instance);
    } catch (caught) {
      if (!(caught instanceof TransferError)) throw caught;
      outcome = 'REJECTED';
      error = { type: caught.type, reason: caught.reason, message: caught.message };
    }
    if (request !== undefined) {
      const state = await transferStateOf(request);
      if (state === 'transferred') {
        logger.info('dead letter', { outcome: 'transferred' });
        return;
      }
      if (state === 'maybe') {
        throw new Error('The dead-lettered request holds a pending intent; it returns to the queue until the sweeper or a retry settles the intent.');
      }
    }
    await failures.record({ outcome, request: originalRequestOf(record), error, origin, at: new Date() });
    logger.info('dead letter', { outcome, reason: error.reason });
  }

  const pendingSlots = new DynamoDbPendingSlots(dynamodb, config.ledgerTable);

  /** The schedule's sweep (lambda/doors/sweep.ts): every due PENDING intent settled through the use case. */
  async function sweep(afterMs: number, context: Context): Promise<SweepReport> {
    const report = await sweepPendingIntents({
      pendingSlots,
      settle: (request, origin) => useCase.settle(request, origin),
      afterMs,
      remainingMs: () => context.getRemainingTimeInMillis(),
      onFailure: (slot, error) => logger.warn('A pending intent could not be settled; the next sweep tries again', { correlationId: slot.origin.correlationId, error }),
    });
    logger.info('sweep', { ...report });
    return report;
  }

  /** The door is chosen by what only that door sets, never by shape alone: anything else is a direct invocation. */
  function route(event: unknown, context: Context): Promise<GatewayResponse> {
    if (isApiGatewayEvent(event, config.doors)) return isHistoryRequest(event) ? serveHistory(event, context) : serve(httpDoor, event, context);
    if (isBufferEvent(event, config.eventBuffer?.queueArn)) return serveBuffer(event, context, (record) => serveBufferedRecord(record, context).catch((failure: unknown) => returnLater(record, failure)));
    if (isBufferEvent(event, config.deadLetterQueueArn)) return serveBuffer(event, context, (record) => serveDeadLetter(record, context));
    if (config.sweep && isSweepEvent(event, config.sweep.ruleArn, config.doors.account)) return sweep(config.sweep.afterMs, context);
    if (isEventBridgeEvent(event, config.doors)) return serve(eventBridgeDoor, event, context);
    return serve(directDoor, event, context);
  }

  return async (event, context) => {
    logger.addContext(context);
    idempotency.registerLambdaContext(context);
    return invocation.run({ deadline: slotDeadlineOf(context) }, () => route(event, context));
  };
}
