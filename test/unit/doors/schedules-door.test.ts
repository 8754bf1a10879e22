import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseInstanceArn } from '../../../lambda/domain/arn';
import type { ConnectInstance } from '../../../lambda/domain/arn';
import { isScheduleRequest, serveSchedules } from '../../../lambda/doors/schedules';
import { logger } from '../../../lambda/observability';
import { ScheduledTransfers } from '../../../lambda/usecase/scheduled-transfers';
import { apiGatewayProxyEvent, lambdaContext } from '../../../local/lambda-events';
import { fakeScheduler, InMemorySchedules } from '../../support/schedule-store';

const instance = parseInstanceArn('arn:aws:connect:eu-west-1:123456789012:instance/11111111-1111-4111-8111-111111111111') as ConnectInstance;
const CALLER = 'arn:aws:sts::123456789012:assumed-role/escalations/app';
const NOW = new Date('2030-01-01T10:00:00Z');
const toQueue = { ContactId: 'c-1', ContactFlowId: 'f-1', QueueId: 'q-1' };

/** A schedule route as API Gateway hands it over: the paths of contract section 12, spelled out. */
function routeEvent(method: string, options: { body?: unknown; scheduleId?: string; query?: Record<string, string>; headers?: Record<string, string> } = {}): APIGatewayProxyEvent {
  const { scheduleId } = options;
  return apiGatewayProxyEvent({
    body: options.body === undefined ? null : JSON.stringify(options.body),
    headers: { 'Content-Type': 'application/json', ...options.headers },
    callerArn: CALLER,
    route:
      scheduleId === undefined
        ? { method, resource: '/contact/transfer/schedules', path: '/contact/transfer/schedules', pathParameters: {}, ...(options.query && { query: options.query }) }
        : { method, resource: '/contact/transfer/schedules/{ScheduleId}', path: `/contact/transfer/schedules/${scheduleId}`, pathParameters: { ScheduleId: scheduleId } },
  });
}

function setUp() {
  const store = new InMemorySchedules();
  const schedules = new ScheduledTransfers({ instance, schedules: store, scheduler: fakeScheduler(), now: () => NOW });
  const serve = async (event: APIGatewayProxyEvent) => {
    const answer: APIGatewayProxyResult = await serveSchedules(schedules, event, lambdaContext());
    return { status: answer.statusCode, headers: answer.headers ?? {}, body: answer.body === '' ? undefined : (JSON.parse(answer.body) as Record<string, unknown>), requestId: event.requestContext.requestId };
  };
  return { store, schedules, serve };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the schedule routes (contract section 12)', () => {
  it('are the schedules resource and one schedule\'s, and not the transfer route', () => {
    expect(isScheduleRequest(routeEvent('POST'))).toBe(true);
    expect(isScheduleRequest(routeEvent('GET', { scheduleId: 'sch-0123456789abcdef0123456789abcdef' }))).toBe(true);
    expect(isScheduleRequest(apiGatewayProxyEvent({ body: JSON.stringify(toQueue) }))).toBe(false);
  });

  it('answers a create 201 with the schedule\'s id, contact, time and state, and a retry with the same Idempotency-Key as a replay', async () => {
    const { serve, store } = setUp();
    const created = await serve(routeEvent('POST', { body: { ...toQueue, AfterSeconds: 120 }, headers: { 'Idempotency-Key': 'escalate-1' } }));
    expect(created).toMatchObject({ status: 201, headers: { 'Content-Type': 'application/json', 'x-amzn-RequestId': created.requestId } });
    expect(created.headers).not.toHaveProperty('Idempotent-Replayed');
    expect(created.body).toStrictEqual({ ScheduleId: expect.stringMatching(/^sch-/), ContactId: 'c-1', At: '2030-01-01T10:02:00.000Z', State: 'SCHEDULED' });
    expect(store.items.get(created.body!.ScheduleId as string)).toMatchObject({ createdBy: CALLER, Request: { ClientToken: 'escalate-1' } });
    const retry = await serve(routeEvent('POST', { body: { ...toQueue, AfterSeconds: 120 }, headers: { 'Idempotency-Key': 'escalate-1' } }));
    expect(retry).toMatchObject({ status: 201, headers: { 'Idempotent-Replayed': 'true' }, body: created.body });
  });

  it('refuses a create without a time with a 400 naming At', async () => {
    const { serve } = setUp();
    expect(await serve(routeEvent('POST', { body: toQueue }))).toMatchObject({
      status: 400,
      headers: { 'x-amzn-ErrorType': 'InvalidRequestException' },
      body: { ReasonCode: 'VALIDATION_FAILED', Fields: [expect.objectContaining({ Field: 'At' })] },
    });
  });

  it('answers one schedule and a contact\'s list 200, and a list without ContactId 400', async () => {
    const { serve } = setUp();
    const created = await serve(routeEvent('POST', { body: { ...toQueue, AfterSeconds: 120 } }));
    const scheduleId = created.body!.ScheduleId as string;
    const one = await serve(routeEvent('GET', { scheduleId }));
    expect(one).toMatchObject({ status: 200, headers: { 'x-amzn-RequestId': one.requestId }, body: { ScheduleId: scheduleId, State: 'SCHEDULED', CreatedAt: NOW.toISOString(), Request: toQueue } });
    expect(await serve(routeEvent('GET', { query: { ContactId: 'c-1' } }))).toMatchObject({ status: 200, body: { Schedules: [one.body] } });
    expect(await serve(routeEvent('GET', { query: { ContactId: 'c-1', MaxResults: '1' } }))).toMatchObject({ status: 200, body: { Schedules: [one.body] } });
    expect(await serve(routeEvent('GET'))).toMatchObject({ status: 400, body: { ReasonCode: 'VALIDATION_FAILED', Fields: [expect.objectContaining({ Field: 'ContactId' })] } });
  });

  it('cancels with an empty 204, again for one already cancelled, and 404 for an id the gateway could not have issued', async () => {
    const { serve, schedules } = setUp();
    const created = await serve(routeEvent('POST', { body: { ...toQueue, AfterSeconds: 120 } }));
    const scheduleId = created.body!.ScheduleId as string;
    const cancelled = await serve(routeEvent('DELETE', { scheduleId }));
    expect(cancelled).toStrictEqual({ status: 204, headers: { 'x-amzn-RequestId': cancelled.requestId }, body: undefined, requestId: cancelled.requestId });
    expect(await serve(routeEvent('DELETE', { scheduleId }))).toMatchObject({ status: 204 });
    expect((await schedules.get(scheduleId)).State).toBe('CANCELLED');
    expect(await serve(routeEvent('GET', { scheduleId: 'not-a-schedule' }))).toMatchObject({ status: 404, body: { ReasonCode: 'SCHEDULE_NOT_FOUND' } });
  });

  it('answers 409 to a cancel after the schedule fired', async () => {
    const { serve, schedules } = setUp();
    const created = await serve(routeEvent('POST', { body: { ...toQueue, AfterSeconds: 120 } }));
    await schedules.fire({ scheduleId: created.body!.ScheduleId as string });
    expect(await serve(routeEvent('DELETE', { scheduleId: created.body!.ScheduleId as string }))).toMatchObject({ status: 409, body: { ReasonCode: 'SCHEDULE_ALREADY_FIRED' } });
  });

  it('refuses a method a route does not have with a 400 naming the method and the route', async () => {
    const { serve } = setUp();
    const put = await serve(routeEvent('PUT', { scheduleId: 'sch-0123456789abcdef0123456789abcdef' }));
    expect(put).toMatchObject({ status: 400, body: { ReasonCode: 'VALIDATION_FAILED', Message: expect.stringMatching(/PUT .*\/contact\/transfer\/schedules\/\{ScheduleId\}/) } });
    expect(await serve(routeEvent('DELETE'))).toMatchObject({ status: 400, body: { ReasonCode: 'VALIDATION_FAILED', Message: expect.stringMatching(/DELETE/) } });
    const postToOne = routeEvent('POST', { scheduleId: 'sch-0123456789abcdef0123456789abcdef', body: { ...toQueue, AfterSeconds: 120 } });
    expect(await serve(postToOne)).toMatchObject({ status: 400, body: { ReasonCode: 'VALIDATION_FAILED', Message: expect.stringMatching(/POST/) } });
  });

  it('answers 404, not a 5xx, for the schedule resource without its path parameter', async () => {
    const { serve } = setUp();
    const event = { ...routeEvent('GET', { scheduleId: 'sch-0123456789abcdef0123456789abcdef' }), pathParameters: null };
    expect(await serve(event)).toMatchObject({ status: 404, body: { ReasonCode: 'SCHEDULE_NOT_FOUND' } });
  });

  it('answers 404 for every schedule when scheduled transfers are not configured', async () => {
    const answer = await serveSchedules(undefined, routeEvent('GET', { scheduleId: 'sch-0123456789abcdef0123456789abcdef' }), lambdaContext());
    expect(answer.statusCode).toBe(404);
    expect(JSON.parse(answer.body)).toMatchObject({ ReasonCode: 'SCHEDULE_NOT_FOUND' });
  });

  it('logs what each request was answered under its request id, and a failure a retry may fix as an error with its cause', async () => {
    const { serve, store } = setUp();
    const info = vi.spyOn(logger, 'info');
    const error = vi.spyOn(logger, 'error');
    const appendKeys = vi.spyOn(logger, 'appendKeys');
    const listed = await serve(routeEvent('GET', { query: { ContactId: 'c-1' } }));
    expect(appendKeys).toHaveBeenCalledWith({ correlationId: listed.requestId });
    expect(info).toHaveBeenCalledWith('schedules', { method: 'GET', resource: '/contact/transfer/schedules', status: 200 });
    await serve(routeEvent('GET', { scheduleId: 'not-a-schedule' }));
    expect(info).toHaveBeenCalledWith('schedules', { method: 'GET', reason: 'SCHEDULE_NOT_FOUND', status: 404 });
    expect(error).not.toHaveBeenCalled();
    const cause = new Error('schedules table unreachable');
    vi.spyOn(store, 'list').mockRejectedValueOnce(cause);
    expect(await serve(routeEvent('GET', { query: { ContactId: 'c-1' } }))).toMatchObject({ status: 500, body: { ReasonCode: 'INTERNAL_ERROR' } });
    expect(error).toHaveBeenCalledWith('schedules', { method: 'GET', reason: 'INTERNAL_ERROR', error: cause });
  });
});
