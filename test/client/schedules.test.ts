import { describe, expect, it } from 'vitest';
import { createTransferClient, TransferContactError } from '../../client/index';
import type { TransferClientOptions } from '../../client/index';
import { checkSignature } from '../support/sigv4-verifier';
import { contractError, CREATED, sampleSchedule, SCHEDULE_ID, SCHEDULED_REQUEST, STAGE, useFakeGateway } from './fake-gateway';

/** The scheduled-transfer methods (contract section 12): what they send, and how they read every kind of answer. */
const credentials = { accessKeyId: 'AKIDSCHEDULETEST', secretAccessKey: 'schedule-test-secret' };
const AT = CREATED.At;
const request = SCHEDULED_REQUEST;
const created = CREATED;
const schedule = sampleSchedule;
const gateway = useFakeGateway();

const client = (options: Partial<TransferClientOptions> = {}) => createTransferClient({ endpoint: gateway.url, baseDelayMs: 1, ...options });
const rejection = (promise: Promise<unknown>) => promise.then(() => expect.fail('resolved'), (error: unknown) => error as TransferContactError);
const only = () => {
  expect(gateway.requests).toHaveLength(1);
  return gateway.requests[0]!;
};

describe('scheduleContactTransfer', () => {
  it('posts the request with At to the schedules route and answers with the schedule, not replayed', async () => {
    gateway.answer({ status: 201, body: created });
    const result = await client().scheduleContactTransfer({ ...request, At: AT });
    expect(result).toEqual({ ...created, replayed: false });
    const sent = only();
    expect(sent).toMatchObject({ method: 'POST', path: `${STAGE}/contact/transfer/schedules` });
    expect(sent.headers['content-type']).toBe('application/json');
    expect(JSON.parse(sent.body)).toEqual({ ...request, At: AT });
  });

  it('sends AfterSeconds as a number, and reads a replay from Idempotent-Replayed', async () => {
    gateway.answer({ status: 201, body: created, headers: { 'Idempotent-Replayed': 'true' } });
    const result = await client().scheduleContactTransfer({ ...request, AfterSeconds: 1800, ClientToken: 'escalate-c-1' });
    expect(result.replayed).toBe(true);
    expect(JSON.parse(only().body)).toEqual({ ...request, AfterSeconds: 1800, ClientToken: 'escalate-c-1' });
  });

  it('retries a 5xx with the same body, so the retry names the same schedule', async () => {
    gateway.answer(contractError(500, 'InternalServiceException', 'INTERNAL_ERROR'), { status: 201, body: created });
    await client().scheduleContactTransfer({ ...request, AfterSeconds: 600 });
    expect(gateway.requests).toHaveLength(2);
    expect(gateway.requests[1]!.body).toBe(gateway.requests[0]!.body);
  });

  it('throws SCHEDULE_LIMIT_REACHED as a final typed 409 that names the idempotency key', async () => {
    gateway.answer(contractError(409, 'ResourceConflictException', 'SCHEDULE_LIMIT_REACHED'));
    const error = await rejection(client().scheduleContactTransfer({ ...request, AfterSeconds: 600 }));
    expect(error).toBeInstanceOf(TransferContactError);
    expect(error).toMatchObject({ type: 'ResourceConflictException', reason: 'SCHEDULE_LIMIT_REACHED', status: 409, retryable: false, attempts: 1, operation: 'ScheduleContactTransfer' });
    expect(error.toJSON()).toMatchObject({ ReasonCode: 'SCHEDULE_LIMIT_REACHED', IdempotencyKey: expect.stringContaining('payload') as unknown });
    expect(gateway.requests).toHaveLength(1);
  });

  it('throws VALIDATION_FAILED with the fields the gateway named', async () => {
    const fields = [{ Field: 'At', Message: 'must be at least 60 seconds ahead' }];
    gateway.answer(contractError(400, 'InvalidRequestException', 'VALIDATION_FAILED', { Fields: fields }));
    const error = await rejection(client().scheduleContactTransfer({ ...request, At: '2020-01-01T00:00:00Z', ClientToken: 't-1' }));
    expect(error).toMatchObject({ reason: 'VALIDATION_FAILED', status: 400, fields });
    expect(error.toJSON()).toMatchObject({ ClientToken: 't-1' });
  });

  it('refuses a 201 that is not a new schedule as INVALID_RESPONSE, without retrying', async () => {
    gateway.answer({ status: 201, body: { ...created, State: 'FIRED' } });
    const error = await rejection(client().scheduleContactTransfer({ ...request, AfterSeconds: 600 }));
    expect(error).toMatchObject({ reason: 'INVALID_RESPONSE', status: 201, retryable: false });
    expect(error.message).toContain('{ScheduleId, ContactId, At, State}');
  });
});

describe('getContactTransferSchedule', () => {
  it('gets the schedule by its id, with the outcome once it fired', async () => {
    const fired = schedule({ State: 'FIRED', FiredAt: AT, Outcome: { Result: 'SKIPPED', ReasonCode: 'CONDITION_NOT_MET', Message: 'The contact is with an agent.' } });
    gateway.answer({ status: 200, body: fired });
    expect(await client().getContactTransferSchedule({ ScheduleId: SCHEDULE_ID })).toEqual(fired);
    expect(only()).toMatchObject({ method: 'GET', path: `${STAGE}/contact/transfer/schedules/${SCHEDULE_ID}`, body: '' });
  });

  it('encodes an id into one path segment, so it cannot reach another route', async () => {
    gateway.answer(contractError(404, 'ResourceNotFoundException', 'SCHEDULE_NOT_FOUND'));
    await rejection(client().getContactTransferSchedule({ ScheduleId: '../transfers/c-1' }));
    expect(only().path).toBe(`${STAGE}/contact/transfer/schedules/..%2Ftransfers%2Fc-1`);
  });

  it('throws SCHEDULE_NOT_FOUND as a typed 404, not retried, with no idempotency key to report', async () => {
    gateway.answer(contractError(404, 'ResourceNotFoundException', 'SCHEDULE_NOT_FOUND'));
    const error = await rejection(client().getContactTransferSchedule({ ScheduleId: SCHEDULE_ID }));
    expect(error).toMatchObject({ type: 'ResourceNotFoundException', reason: 'SCHEDULE_NOT_FOUND', status: 404, requestId: 'req-1', operation: 'GetContactTransferSchedule' });
    expect(error.toJSON()).not.toHaveProperty('IdempotencyKey');
    expect(error.toJSON()).not.toHaveProperty('ClientToken');
  });

  it('refuses a 200 without a schedule as INVALID_RESPONSE', async () => {
    gateway.answer({ status: 200, body: { ScheduleId: SCHEDULE_ID } });
    expect(await rejection(client().getContactTransferSchedule({ ScheduleId: SCHEDULE_ID }))).toMatchObject({ reason: 'INVALID_RESPONSE' });
  });
});

describe('listContactTransferSchedules', () => {
  it('asks by ContactId with MaxResults and NextToken in the query', async () => {
    gateway.answer({ status: 200, body: { Schedules: [schedule()], NextToken: 'next' } });
    const page = await client().listContactTransferSchedules({ ContactId: 'c/1', MaxResults: 1, NextToken: 'tok+en' });
    expect(page).toEqual({ Schedules: [schedule()], NextToken: 'next' });
    const sent = only();
    expect(sent).toMatchObject({ method: 'GET', path: `${STAGE}/contact/transfer/schedules` });
    expect(Object.fromEntries(sent.query)).toEqual({ ContactId: 'c/1', MaxResults: '1', NextToken: 'tok+en' });
  });

  it('paginateContactTransferSchedules follows NextToken to the last page', async () => {
    gateway.answer(
      { status: 200, body: { Schedules: [schedule({ ScheduleId: 'sch-1' })], NextToken: 'p2' } },
      { status: 200, body: { Schedules: [schedule({ ScheduleId: 'sch-2' })] } },
    );
    const ids: string[] = [];
    for await (const page of client().paginateContactTransferSchedules({ ContactId: 'c-1', MaxResults: 1 })) ids.push(...page.Schedules.map((item) => item.ScheduleId));
    expect(ids).toEqual(['sch-1', 'sch-2']);
    expect(gateway.requests.map((sent) => sent.query.get('NextToken'))).toEqual([null, 'p2']);
  });

  it('throws the 400 of a refused query, and refuses a page whose items are not schedules', async () => {
    gateway.answer(contractError(400, 'InvalidRequestException', 'VALIDATION_FAILED'));
    expect(await rejection(client().listContactTransferSchedules({ ContactId: 'c-1', MaxResults: 0 }))).toMatchObject({ reason: 'VALIDATION_FAILED', status: 400 });
    gateway.answer({ status: 200, body: { Schedules: [{ ScheduleId: 'sch-1' }] } });
    expect(await rejection(client().listContactTransferSchedules({ ContactId: 'c-1' }))).toMatchObject({ reason: 'INVALID_RESPONSE' });
  });
});

describe('cancelContactTransferSchedule', () => {
  it('deletes the schedule and resolves on 204', async () => {
    gateway.answer({ status: 204 });
    await expect(client().cancelContactTransferSchedule({ ScheduleId: SCHEDULE_ID })).resolves.toBeUndefined();
    expect(only()).toMatchObject({ method: 'DELETE', path: `${STAGE}/contact/transfer/schedules/${SCHEDULE_ID}`, body: '' });
  });

  it('repeats a cancel whose answer was lost, since cancelling twice is the same as once', async () => {
    gateway.answer({ status: 503 }, { status: 204 });
    await client().cancelContactTransferSchedule({ ScheduleId: SCHEDULE_ID });
    expect(gateway.requests.map((sent) => sent.method)).toEqual(['DELETE', 'DELETE']);
  });

  it('throws SCHEDULE_ALREADY_FIRED as a final typed 409', async () => {
    gateway.answer(contractError(409, 'ResourceConflictException', 'SCHEDULE_ALREADY_FIRED'));
    const error = await rejection(client().cancelContactTransferSchedule({ ScheduleId: SCHEDULE_ID }));
    expect(error).toMatchObject({ reason: 'SCHEDULE_ALREADY_FIRED', status: 409, retryable: false, operation: 'CancelContactTransferSchedule' });
    expect(gateway.requests).toHaveLength(1);
  });
});

describe('signing the schedule routes', () => {
  it.each([
    ['a create', () => client({ credentials, region: 'eu-west-2' }).scheduleContactTransfer({ ...request, AfterSeconds: 600 }), { status: 201, body: created }],
    ['a list', () => client({ credentials, region: 'eu-west-2' }).listContactTransferSchedules({ ContactId: 'c 1', NextToken: 'a/b=' }), { status: 200, body: { Schedules: [] } }],
    ['a cancel', () => client({ credentials, region: 'eu-west-2' }).cancelContactTransferSchedule({ ScheduleId: SCHEDULE_ID }), { status: 204 }],
  ])('signs %s for execute-api, path, query and body as they arrived', async (_operation, call, answer) => {
    gateway.answer(answer);
    await call();
    const sent = only();
    const check = checkSignature({ method: sent.method, path: sent.path, query: sent.rawQuery, headers: sent.headers, body: sent.body }, credentials.secretAccessKey);
    expect(check).toMatchObject({ valid: true, scope: { region: 'eu-west-2', service: 'execute-api' } });
  });
});
