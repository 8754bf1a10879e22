import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { TransferError } from '../domain/errors';
import { parseScheduleId, parseScheduleListQuery, SCHEDULE_RESOURCE, SCHEDULES_RESOURCE } from '../domain/schedule';
import { logger } from '../observability';
import type { Origin } from '../ports';
import type { ScheduledTransfers } from '../usecase/scheduled-transfers';
import { asTransferError } from './door';
import { httpDoor, jsonHeaders } from './http';

/** API Gateway names the matched resource, so the route is known without parsing the path. */
export function isScheduleRequest(event: APIGatewayProxyEvent): boolean {
  return event.resource === SCHEDULES_RESOURCE || event.resource === SCHEDULE_RESOURCE;
}

/**
 * The schedule routes of contract section 12: create (the body and `Idempotency-Key` read as a transfer's are), read,
 * list by contact, cancel. Without scheduled transfers configured, no schedule exists.
 */
export async function serveSchedules(schedules: ScheduledTransfers | undefined, event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> {
  const origin = httpDoor.origin(event, context);
  logger.appendKeys({ correlationId: origin.correlationId });
  try {
    if (!schedules) throw TransferError.of('SCHEDULE_NOT_FOUND');
    const answer = await route(schedules, event, origin);
    logger.info('schedules', { method: event.httpMethod, resource: event.resource, status: answer.statusCode });
    return answer;
  } catch (caught) {
    const error = asTransferError(caught);
    if (error.retryable) logger.error('schedules', { method: event.httpMethod, reason: error.reason, error: error.cause ?? error });
    else logger.info('schedules', { method: event.httpMethod, reason: error.reason, status: error.status });
    return httpDoor.failed(error, origin);
  }
}

async function route(schedules: ScheduledTransfers, event: APIGatewayProxyEvent, origin: Origin): Promise<APIGatewayProxyResult> {
  const method = event.httpMethod;
  if (event.resource === SCHEDULES_RESOURCE && method === 'POST') {
    const { schedule, replayed } = await schedules.create(httpDoor.input(event), origin);
    const body = { ScheduleId: schedule.ScheduleId, ContactId: schedule.ContactId, At: schedule.At, State: schedule.State };
    return answer(201, body, origin, replayed ? { 'Idempotent-Replayed': 'true' } : {});
  }
  if (event.resource === SCHEDULES_RESOURCE && method === 'GET') return answer(200, await schedules.list(parseScheduleListQuery(event.queryStringParameters ?? {})), origin);
  if (event.resource === SCHEDULE_RESOURCE) {
    const scheduleId = parseScheduleId(event.pathParameters?.ScheduleId);
    if (method === 'GET') return answer(200, await schedules.get(scheduleId), origin);
    if (method === 'DELETE') {
      await schedules.cancel(scheduleId);
      return { statusCode: 204, headers: { 'x-amzn-RequestId': origin.correlationId }, body: '' };
    }
  }
  throw TransferError.of('VALIDATION_FAILED', { message: `${method} is not a method of ${event.resource}.` });
}

function answer(statusCode: number, body: unknown, origin: Origin, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode, headers: { ...jsonHeaders(origin.correlationId), ...headers }, body: JSON.stringify(body) };
}
