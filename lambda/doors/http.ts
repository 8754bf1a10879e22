import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { DoorTrust } from '../config';
import { TransferError } from '../domain/errors';
import type { TransferHistoryPort } from '../domain/history';
import { MAX_BODY_BYTES } from '../domain/request';
import type { Door, TransferDoorDependencies } from './door';
import { isRecord, transferThrough } from './door';
import { isHistoryRequest, serveHistory } from './history';
import type { ScheduledTransfers } from '../usecase/scheduled-transfers';
import { isScheduleRequest, serveSchedules } from './schedules';

const IDEMPOTENCY_HEADER = 'idempotency-key';

/** API Gateway REST (v1 proxy) events: `POST /contact/transfer`. */
export const httpDoor: Door<APIGatewayProxyEvent, APIGatewayProxyResult> = {
  origin: (event) => ({
    door: 'https',
    // isApiGatewayEvent admits only events whose IAM caller is set.
    caller: event.requestContext.identity.userArn ?? 'unknown',
    correlationId: event.requestContext.requestId,
  }),

  input: (event) => {
    const body = parseJsonBody(event);
    const headerToken = idempotencyHeader(event);
    if (headerToken === undefined || typeof body !== 'object' || body === null || Array.isArray(body)) return body;
    const bodyToken: unknown = (body as Record<string, unknown>).ClientToken;
    if (bodyToken !== undefined && bodyToken !== headerToken) {
      throw TransferError.of('VALIDATION_FAILED', {
        fields: [{ Field: 'Idempotency-Key', Message: 'differs from ClientToken; send one of them, or the same value in both' }],
      });
    }
    return { ...body, ClientToken: headerToken };
  },

  succeeded: ({ result, replayed }, origin) => ({
    statusCode: 200,
    headers: { ...jsonHeaders(origin.correlationId), ...(replayed && { 'Idempotent-Replayed': 'true' }) },
    body: JSON.stringify({ ContactId: result.ContactId, ContactArn: result.ContactArn }),
  }),

  failed: (error, origin) => ({
    statusCode: error.status,
    headers: { ...jsonHeaders(origin.correlationId), 'x-amzn-ErrorType': error.type },
    body: JSON.stringify({
      Type: error.type,
      ReasonCode: error.reason,
      Message: error.message,
      ...(error.fields && { Fields: error.fields }),
    }),
  }),
};

export interface ApiDependencies extends TransferDoorDependencies {
  readonly history: TransferHistoryPort;
  /** Absent without scheduled transfers configured. */
  readonly schedules?: ScheduledTransfers;
}

/**
 * The API's entry: `POST /contact/transfer` through the use case, `GET /contact/transfers/{ContactId}` from the
 * ledger (lambda/doors/history.ts), the schedule routes (lambda/doors/schedules.ts). Only API Gateway may invoke the function behind it (lib/gateway-function.ts), so
 * the IAM caller in `requestContext` is the one API Gateway authenticated.
 */
export function apiEntry(deps: ApiDependencies): (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult> {
  return (event, context) => {
    if (isHistoryRequest(event)) return serveHistory(deps.history, event, context);
    if (isScheduleRequest(event)) return serveSchedules(deps.schedules, event, context);
    return transferThrough(httpDoor, deps, event, context);
  };
}

/**
 * An event the stack's own REST API built: its API id, account and stage, the caller IAM authorization always sets,
 * and members of the types API Gateway sends (so a malformed copy is refused, instead of a crash in this door).
 */
export function isApiGatewayEvent(event: unknown, trust: DoorTrust): event is APIGatewayProxyEvent {
  if (!isRecord(event) || trust.api === undefined) return false;
  const context = event.requestContext;
  if (!isRecord(context) || !isRecord(context.identity)) return false;
  const { userArn } = context.identity;
  return (
    context.apiId === trust.api.id &&
    context.accountId === trust.account &&
    context.stage === trust.api.stage &&
    typeof context.requestId === 'string' &&
    typeof userArn === 'string' &&
    userArn !== '' &&
    typeof event.httpMethod === 'string' &&
    (event.body === null || event.body === undefined || typeof event.body === 'string') &&
    (event.isBase64Encoded === undefined || typeof event.isBase64Encoded === 'boolean') &&
    isMapOf(event.headers, isString) &&
    isMapOf(event.multiValueHeaders, (values) => Array.isArray(values) && values.every(isString)) &&
    isMapOf(event.pathParameters, isString) &&
    isMapOf(event.queryStringParameters, isString)
  );
}

const isString = (value: unknown): boolean => typeof value === 'string';

/** API Gateway sends null (or nothing) for no headers or parameters, otherwise an object of their values. */
function isMapOf(value: unknown, isValue: (value: unknown) => boolean): boolean {
  return value === null || value === undefined || (isRecord(value) && Object.values(value).every((entry) => entry === undefined || isValue(entry)));
}

function parseJsonBody(event: APIGatewayProxyEvent): unknown {
  if (event.body === null || event.body === undefined || event.body === '') {
    throw TransferError.of('VALIDATION_FAILED', { message: 'The request needs a JSON body with the members of TransferContact.' });
  }
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (raw.byteLength > MAX_BODY_BYTES) {
    throw TransferError.of('VALIDATION_FAILED', { message: `The body is larger than ${MAX_BODY_BYTES / 1024} KiB.` });
  }
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw TransferError.of('VALIDATION_FAILED', { message: 'The body is not valid JSON.' });
  }
}

/** Header names are case-insensitive; two different values for the one key are a caller's bug, not a choice to make. */
function idempotencyHeader(event: APIGatewayProxyEvent): string | undefined {
  const values = new Set<string>();
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (name.toLowerCase() === IDEMPOTENCY_HEADER && value !== undefined) values.add(value);
  }
  for (const [name, list] of Object.entries(event.multiValueHeaders ?? {})) {
    if (name.toLowerCase() === IDEMPOTENCY_HEADER) list?.forEach((value) => values.add(value));
  }
  if (values.size > 1) {
    throw TransferError.of('VALIDATION_FAILED', { fields: [{ Field: 'Idempotency-Key', Message: 'is given more than once with different values' }] });
  }
  return values.values().next().value;
}

/** The headers of every JSON answer the function gives API Gateway. */
export function jsonHeaders(requestId: string): Record<string, string> {
  return { 'Content-Type': 'application/json', 'x-amzn-RequestId': requestId };
}
