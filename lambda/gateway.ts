import { ConnectClient } from '@aws-sdk/client-connect';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ConnectAdapter } from './adapters/connect';
import { PowertoolsIdempotency } from './adapters/idempotency';
import { DynamoDbTransferHistory } from './adapters/history';
import { DynamoDbLedger } from './adapters/ledger';
import type { GatewayConfig } from './config';
import { TransferError } from './domain/errors';
import { parseTransferRequest } from './domain/request';
import type { Door } from './doors/door';
import { directDoor } from './doors/direct';
import { eventBridgeDoor, isEventBridgeEvent } from './doors/eventbridge';
import type { EventResult } from './doors/eventbridge';
import { historyQueryOf, historyResponse, isHistoryRequest } from './doors/history';
import { httpDoor, isApiGatewayEvent } from './doors/http';
import { logger, metrics, reportConnectThrottle, reportOutcome } from './observability';
import type { TransferResult } from './ports';
import { TransferContactUseCase } from './usecase/transfer-contact';

export type GatewayResponse = APIGatewayProxyResult | EventResult | TransferResult;
export type GatewayHandler = (event: unknown, context: Context) => Promise<GatewayResponse>;

/** SDK clients the gateway builds itself unless given; endpoints come from AWS_ENDPOINT_URL_* when set. */
export interface GatewayClients {
  readonly connect?: ConnectClient;
  readonly dynamodb?: DynamoDBClient;
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
function withoutLogFiltering<Client extends ConnectClient | DynamoDBClient>(client: Client): Client {
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}

/** Wires the adapters once per container and returns the Lambda handler that serves all three doors. */
export function createGateway(config: GatewayConfig, clients: GatewayClients = {}): GatewayHandler {
  // Connect is called in the instance's own Region, wherever the function runs.
  const connectClient = clients.connect ?? withoutLogFiltering(new ConnectClient({ ...SDK_CLIENT_OPTIONS, region: config.instance.region }));
  const dynamodb = clients.dynamodb ?? withoutLogFiltering(new DynamoDBClient(SDK_CLIENT_OPTIONS));
  const idempotency = new PowertoolsIdempotency(dynamodb, config.idempotencyTable, config.idempotencyTtlSeconds);
  const useCase = new TransferContactUseCase({
    instance: config.instance,
    policy: { allowedChannels: config.allowedChannels, maxTransfers: config.maxTransfers },
    connect: new ConnectAdapter(connectClient, config.instance, { metadataCacheTtlMs: config.metadataCacheTtlMs }, reportConnectThrottle),
    ledger: new DynamoDbLedger(dynamodb, config.ledgerTable, config.ledgerRetentionDays),
    idempotency,
    alert: (message, details) => logger.error(message, details),
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

  async function serve<Event, Response>(door: Door<Event, Response>, event: Event, context: Context): Promise<Response> {
    const startedAt = Date.now();
    const origin = door.origin(event, context);
    logger.appendKeys({ correlationId: origin.correlationId });
    let contactId: string | undefined;
    try {
      const request = parseTransferRequest(door.input(event), config.instance);
      contactId = request.ContactId;
      const outcome = await useCase.execute(request, origin);
      reportOutcome({ origin, contactId, startedAt, outcome });
      return door.succeeded(outcome, origin);
    } catch (caught) {
      const error = caught instanceof TransferError ? caught : TransferError.of('INTERNAL_ERROR', { cause: caught });
      reportOutcome({ origin, contactId, startedAt, error });
      return door.failed(error, origin);
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  }

  return async (event, context) => {
    logger.addContext(context);
    idempotency.registerLambdaContext(context);
    // The door is chosen by what only that door sets, never by shape alone: anything else is a direct invocation.
    if (isApiGatewayEvent(event, config.doors)) return isHistoryRequest(event) ? serveHistory(event, context) : serve(httpDoor, event, context);
    if (isEventBridgeEvent(event, config.doors)) return serve(eventBridgeDoor, event, context);
    return serve(directDoor, event, context);
  };
}
