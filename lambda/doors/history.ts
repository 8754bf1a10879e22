import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { parseHistoryQuery } from '../domain/history';
import type { HistoryPage, HistoryQuery } from '../domain/history';
import type { Origin } from '../ports';
import { jsonHeaders } from './http';

/** The API resource of contract section 10; the stack builds the route from it. */
export const HISTORY_RESOURCE = '/contact/transfers/{ContactId}';

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
