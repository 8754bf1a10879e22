import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { HISTORY_RESOURCE, parseHistoryQuery } from '../domain/history';
import type { HistoryPage, HistoryQuery, TransferHistoryPort } from '../domain/history';
import { logger } from '../observability';
import type { Origin } from '../ports';
import { asTransferError } from './door';
import { httpDoor, jsonHeaders } from './http';

/** API Gateway names the matched resource, so the route is known without parsing the path. */
export function isHistoryRequest(event: APIGatewayProxyEvent): boolean {
  return event.httpMethod === 'GET' && event.resource === HISTORY_RESOURCE;
}

export function historyQueryOf(event: APIGatewayProxyEvent): HistoryQuery {
  return parseHistoryQuery(event.pathParameters?.ContactId, event.queryStringParameters ?? {});
}

export function historyResponse(page: HistoryPage, origin: Origin): APIGatewayProxyResult {
  return {
    statusCode: 200,
    headers: jsonHeaders(origin.correlationId),
    body: JSON.stringify(page),
  };
}

/** `GET /contact/transfers/{ContactId}`: a read, so no idempotency and nothing of Connect's. */
export async function serveHistory(history: TransferHistoryPort, event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> {
  const origin = httpDoor.origin(event, context);
  logger.appendKeys({ correlationId: origin.correlationId });
  try {
    const page = await history.list(historyQueryOf(event));
    logger.info('history', { contactId: event.pathParameters?.ContactId, transfers: page.Transfers.length, more: page.NextToken !== undefined });
    return historyResponse(page, origin);
  } catch (caught) {
    const error = asTransferError(caught);
    if (error.retryable) logger.error('history', { reason: error.reason, error: error.cause ?? error });
    else logger.info('history', { reason: error.reason, status: error.status });
    return httpDoor.failed(error, origin);
  }
}
