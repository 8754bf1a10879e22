import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { TransferError } from '../domain/errors';
import { MAX_BODY_BYTES } from '../domain/request';
import type { Door } from './door';

const IDEMPOTENCY_HEADER = 'idempotency-key';

/** API Gateway REST (v1 proxy) events: `POST /contact/transfer`. */
export const httpDoor: Door<APIGatewayProxyEvent, APIGatewayProxyResult> = {
  origin: (event) => ({
    door: 'https',
    caller: event.requestContext?.identity?.userArn ?? event.requestContext?.identity?.caller ?? 'unknown',
    correlationId: event.requestContext?.requestId ?? 'unknown',
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
      Reason: error.reason,
      Message: error.message,
      ...(error.fields && { Fields: error.fields }),
    }),
  }),
};

export function isApiGatewayEvent(event: unknown): event is APIGatewayProxyEvent {
  return typeof event === 'object' && event !== null && 'httpMethod' in event && 'requestContext' in event;
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

function jsonHeaders(requestId: string): Record<string, string> {
  return { 'Content-Type': 'application/json', 'x-amzn-RequestId': requestId };
}
