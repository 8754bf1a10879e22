import type { APIGatewayProxyResult, Context, SQSBatchResponse } from 'aws-lambda';
import { BufferVisibility } from './adapters/buffer-visibility';
import { ConnectAdapter } from './adapters/connect';
import { DynamoDbFailureLog } from './adapters/failure-records';
import { DynamoDbTransferHistory } from './adapters/history';
import { PowertoolsIdempotency } from './adapters/idempotency';
import { DynamoDbLedger } from './adapters/ledger';
import { SharedPacing } from './adapters/pacing';
import { DynamoDbPendingSlots } from './adapters/pending-slots';
import { EventBridgeScheduler } from './adapters/scheduler';
import { DynamoDbSchedules } from './adapters/schedules';
import { DynamoDbPacer } from './adapters/transfer-pacer';
import { connectClientOf, connectTransferClientOf, dynamoDbClientOf, schedulerClientOf, sqsClientOf } from './clients';
import type { GatewayClients } from './clients';
import type { GatewayConfig } from './config';
import { deadLetterEntry } from './doors/dead-letters';
import { directEntry } from './doors/direct';
import type { DirectHandler } from './doors/direct';
import { apiEntry, isApiGatewayEvent } from './doors/http';
import { bufferEntry, isBufferEvent } from './doors/sqs';
import { isSweepEvent, sweepEntry } from './doors/sweep';
import type { SweepReport } from './doors/sweep';
import { logger, reportConnectThrottle } from './observability';
import { ScheduledTransfers } from './usecase/scheduled-transfers';
import { TransferContactUseCase } from './usecase/transfer-contact';

export { createGatewayClients } from './clients';
export type { GatewayClients, SdkClientSettings } from './clients';
export type { DirectHandler } from './doors/direct';

export type ServiceResponse = APIGatewayProxyResult | SQSBatchResponse | SweepReport;
/** The function that AWS services alone invoke: the API, the buffer, the dead-letter queue and the sweep schedule. */
export type ServiceHandler = (event: unknown, context: Context) => Promise<ServiceResponse>;

/** One container's two entry points: each a function of its own in the stack, from the same bundle. */
export interface Gateway {
  readonly service: ServiceHandler;
  readonly direct: DirectHandler;
}

/** An event none of the service function's triggers sends: refused, never taken for a request. */
export class UnrecognisedEvent extends Error {
  constructor() {
    super('The gateway function serves its API, its event buffer, its dead-letter queue and its sweep schedule; direct invocations go to the direct-invocation function.');
    this.name = 'UnrecognisedEvent';
  }
}

/** Wires the adapters once per container. A client it is not given it builds from the environment, as Lambda sets it. */
export function createGateway(config: GatewayConfig, clients: GatewayClients = {}): Gateway {
  const dynamodb = clients.dynamodb ?? dynamoDbClientOf({});
  const idempotency = new PowertoolsIdempotency(dynamodb, config.idempotencyTable, config.idempotencyTtlSeconds);
  // One budget for this stack's doors and containers, in its own table (Connect counts per account and Region).
  const pacer = new DynamoDbPacer(dynamodb, config.idempotencyTable, config.pace, config.instance);
  const connectClient = clients.connect ?? connectClientOf(config, {});
  const connect = new ConnectAdapter(
    connectClient,
    config.instance,
    {
      metadataCacheTtlMs: config.metadataCacheTtlMs,
      // A Connect client given without its TransferContact twin serves both, as its giver configured it.
      transferClient: clients.connectTransfer ?? clients.connect ?? connectTransferClientOf(config, {}),
    },
    reportConnectThrottle,
  );
  const ledger = new DynamoDbLedger(dynamodb, config.ledgerTable, config.ledgerRetentionDays);
  const failures = new DynamoDbFailureLog(dynamodb, config.ledgerTable, config.ledgerRetentionDays);
  const useCase = new TransferContactUseCase({
    instance: config.instance,
    policy: { allowedChannels: config.allowedChannels, maxTransfers: config.maxTransfers },
    connect,
    ledger,
    idempotency,
    pacing: new SharedPacing(pacer, (message, details) => logger.warn(message, details)),
    alert: (message, details) => logger.error(message, details),
    skipAnswerMs: config.idempotencyTtlSeconds * 1000,
  });
  const doors = { instance: config.instance, useCase };
  const schedules =
    config.schedules &&
    new ScheduledTransfers({
      instance: config.instance,
      schedules: new DynamoDbSchedules(dynamodb, config.schedules.table, config.ledgerRetentionDays),
      scheduler: new EventBridgeScheduler(clients.scheduler ?? schedulerClientOf({}), config.schedules),
      warn: (message, details) => logger.warn(message, details),
    });

  const api = apiEntry({ ...doors, history: new DynamoDbTransferHistory(dynamodb, config.ledgerTable), ...(schedules && { schedules }) });
  const buffer =
    config.eventBuffer &&
    bufferEntry({
      ...doors,
      trust: config.doors,
      failures,
      maxReceives: config.eventBuffer.maxReceives,
      visibility: new BufferVisibility(clients.sqs ?? sqsClientOf(config, {}), config.eventBuffer.queueArn),
      ...(schedules && { schedules }),
    });
  const deadLetters = deadLetterEntry({
    instance: config.instance,
    trust: config.doors,
    bufferQueueArn: config.eventBuffer?.queueArn,
    transferRuleArn: config.transferRuleArn,
    ledger,
    failures,
    ...(schedules && { schedules }),
  });
  const sweep =
    config.sweep &&
    sweepEntry({
      pendingSlots: new DynamoDbPendingSlots(dynamodb, config.ledgerTable),
      useCase,
      setAside: (slot) => ledger.setAside(slot.reservation),
      afterMs: config.sweep.afterMs,
      ...(schedules && { schedules }),
    });
  const direct = directEntry(doors);

  /** The entry is chosen by what only that trigger sets; anything else is refused. */
  function route(event: unknown, context: Context): Promise<ServiceResponse> {
    if (isApiGatewayEvent(event, config.doors)) return api(event, context);
    if (buffer && isBufferEvent(event, config.eventBuffer?.queueArn)) return buffer(event, context);
    if (isBufferEvent(event, config.deadLetterQueueArn)) return deadLetters(event, context);
    if (sweep && isSweepEvent(event, config.sweep?.ruleArn, config.doors.account)) return sweep(event, context);
    logger.error('An event none of the function\'s triggers sends', { keys: typeof event === 'object' && event !== null ? Object.keys(event).slice(0, 10) : typeof event });
    return Promise.reject(new UnrecognisedEvent());
  }

  const entered = <Event, Response>(entry: (event: Event, context: Context) => Promise<Response>) =>
    (event: Event, context: Context): Promise<Response> => {
      logger.addContext(context);
      idempotency.registerLambdaContext(context);
      return entry(event, context);
    };
  return { service: entered(route), direct: entered(direct) };
}
