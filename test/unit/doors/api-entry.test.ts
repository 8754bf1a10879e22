import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DoorTrust } from '../../../lambda/config';
import { parseInstanceArn } from '../../../lambda/domain/arn';
import type { ConnectInstance } from '../../../lambda/domain/arn';
import { TransferError } from '../../../lambda/domain/errors';
import type { HistoryPage, TransferHistoryPort } from '../../../lambda/domain/history';
import { apiEntry, httpDoor, isApiGatewayEvent } from '../../../lambda/doors/http';
import { logger } from '../../../lambda/observability';
import type { TransferResult } from '../../../lambda/ports';
import type { TransferContactUseCase, TransferOutcome } from '../../../lambda/usecase/transfer-contact';
import { apiGatewayProxyEvent, lambdaContext, LOCAL_API } from '../../../local/lambda-events';

const INSTANCE_ARN = 'arn:aws:connect:eu-west-1:123456789012:instance/11111111-1111-4111-8111-111111111111';
const instance = parseInstanceArn(INSTANCE_ARN) as ConnectInstance;
const CALLER = 'arn:aws:sts::123456789012:assumed-role/crm/app';
const toQueue = { ContactId: 'c-1', ContactFlowId: 'f-1', QueueId: 'q-1' };
const transferred: TransferResult = { ContactId: 'c-new', ContactArn: `${INSTANCE_ARN}/contact/c-new` };
const page: HistoryPage = {
  Transfers: [
    {
      TransferNumber: 1,
      FromContactId: 'c-1',
      ToContactId: 'c-new',
      ToContactArn: transferred.ContactArn,
      ContactFlowId: 'f-1',
      QueueId: 'q-1',
      RequestedBy: CALLER,
      Door: 'https',
      TransferredAt: '2030-01-01T10:00:00.000Z',
    },
  ],
  NextToken: 'page-2',
};

/** The API's function as lambda/gateway.ts wires it, in front of a use case and a history that answer as told. */
function setUp(options: { history?: TransferHistoryPort['list']; transfer?: () => Promise<TransferOutcome> } = {}) {
  const execute = vi.fn<TransferContactUseCase['execute']>(options.transfer ?? (async () => ({ result: transferred, replayed: false })));
  const list = vi.fn<TransferHistoryPort['list']>(options.history ?? (async () => page));
  const handle = apiEntry({ instance, useCase: { execute }, history: { list } });
  const serve = async (event: APIGatewayProxyEvent) => {
    const answer: APIGatewayProxyResult = await handle(event, lambdaContext());
    return { status: answer.statusCode, headers: answer.headers ?? {}, body: answer.body === '' ? undefined : (JSON.parse(answer.body) as Record<string, unknown>) };
  };
  return { serve, execute, list };
}

const transferEvent = (body: string | null | undefined, headers: Record<string, string> = {}): APIGatewayProxyEvent => ({
  ...apiGatewayProxyEvent({ body: null, headers: { 'Content-Type': 'application/json', ...headers }, callerArn: CALLER }),
  body: body as string | null,
});

function historyEvent(contactId: string, query: Record<string, string> = {}): APIGatewayProxyEvent {
  return apiGatewayProxyEvent({
    body: null,
    callerArn: CALLER,
    route: { method: 'GET', resource: '/contact/transfers/{ContactId}', path: `/contact/transfers/${contactId}`, pathParameters: { ContactId: contactId }, query },
  });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the API\'s function routes each request by the resource API Gateway matched', () => {
  it('sends POST /contact/transfer through the use case, as the IAM caller', async () => {
    const { serve, execute, list } = setUp();
    const answer = await serve(transferEvent(JSON.stringify(toQueue)));
    expect(answer).toMatchObject({ status: 200, body: transferred });
    expect(execute).toHaveBeenCalledExactlyOnceWith(toQueue, expect.objectContaining({ door: 'https', caller: CALLER }), expect.anything());
    expect(list).not.toHaveBeenCalled();
  });

  it('reads GET /contact/transfers/{ContactId} from the history, with nothing sent to the use case', async () => {
    const { serve, execute, list } = setUp();
    const answer = await serve(historyEvent('c-1', { MaxResults: '10' }));
    expect(answer).toMatchObject({ status: 200, body: page });
    expect(list).toHaveBeenCalledExactlyOnceWith({ ContactId: 'c-1', maxResults: 10 });
    expect(execute).not.toHaveBeenCalled();
  });

  it('answers a schedule route with 404 SCHEDULE_NOT_FOUND when scheduled transfers are not configured', async () => {
    const { serve, execute } = setUp();
    const event = apiGatewayProxyEvent({
      body: null,
      callerArn: CALLER,
      route: { method: 'GET', resource: '/contact/transfer/schedules/{ScheduleId}', path: '/contact/transfer/schedules/sch-1', pathParameters: { ScheduleId: 'sch-1' } },
    });
    expect(await serve(event)).toMatchObject({ status: 404, body: { ReasonCode: 'SCHEDULE_NOT_FOUND' } });
    expect(execute).not.toHaveBeenCalled();
  });
});

describe('the transfer route refuses a body it cannot read with a 400, never a 500', () => {
  it.each<[string, string | null | undefined]>([
    ['no body member at all', undefined],
    ['a null body', null],
  ])('%s', async (_case, body) => {
    const { serve, execute } = setUp();
    expect(await serve(transferEvent(body))).toMatchObject({ status: 400, body: { ReasonCode: 'VALIDATION_FAILED', Message: 'The request needs a JSON body with the members of TransferContact.' } });
    expect(execute).not.toHaveBeenCalled();
  });

  it('a JSON null body with an Idempotency-Key is refused by rule 1 as no request object', async () => {
    const { serve, execute } = setUp();
    const answer = await serve(transferEvent('null', { 'Idempotency-Key': 'key-1' }));
    expect(answer).toMatchObject({ status: 400, body: { ReasonCode: 'VALIDATION_FAILED', Message: 'The request must be a JSON object with the members of TransferContact.' } });
    expect(execute).not.toHaveBeenCalled();
  });
});

describe('the Idempotency-Key of an event built in-process (local mode), whose header maps may hold no value', () => {
  const withHeaders = (headers: APIGatewayProxyEvent['headers'], multiValueHeaders: APIGatewayProxyEvent['multiValueHeaders']): APIGatewayProxyEvent => ({
    ...apiGatewayProxyEvent({ body: JSON.stringify(toQueue), callerArn: CALLER }),
    headers,
    multiValueHeaders,
  });

  it('a header without a value is no second value', () => {
    expect(httpDoor.input(withHeaders({ 'Idempotency-Key': undefined }, { 'idempotency-key': ['key-1'] }))).toEqual({ ...toQueue, ClientToken: 'key-1' });
  });

  it('a multi-value header without values is no header', () => {
    expect(httpDoor.input(withHeaders({}, { 'Idempotency-Key': undefined }))).toEqual(toQueue);
  });
});

describe('the HTTPS door\'s shape check, for members API Gateway may leave out', () => {
  const trust: DoorTrust = { account: '111122223333', api: { id: LOCAL_API.id, stage: LOCAL_API.stage }, eventSources: [] };
  const api = apiGatewayProxyEvent({ body: JSON.stringify(toQueue), headers: { Accept: 'application/json' }, callerArn: CALLER });
  const without = (member: keyof APIGatewayProxyEvent): unknown => Object.fromEntries(Object.entries(api).filter(([name]) => name !== member));

  it.each<[string, unknown]>([
    ['no body member', without('body')],
    ['no headers member', without('headers')],
    ['a header map holding a member without a value', { ...api, headers: { Accept: 'application/json', 'X-Empty': undefined } }],
  ])('an event with %s is the HTTPS door', (_case, event) => {
    expect(isApiGatewayEvent(event, trust)).toBe(true);
  });

  it('a header map with one string value and one that is not is refused', () => {
    expect(isApiGatewayEvent({ ...api, headers: { Accept: 'application/json', 'Idempotency-Key': 7 } }, trust)).toBe(false);
  });

  it('an event without an IAM caller is recorded as coming from an unknown caller, never from an empty one', () => {
    const event = { ...api, requestContext: { ...api.requestContext, identity: { ...api.requestContext.identity, userArn: null } } };
    expect(httpDoor.origin(event, lambdaContext()).caller).toBe('unknown');
  });
});

describe('GET /contact/transfers/{ContactId} (contract section 10)', () => {
  it('answers the page with the request id, its line logged under the request id', async () => {
    const { serve } = setUp();
    const appendKeys = vi.spyOn(logger, 'appendKeys');
    const info = vi.spyOn(logger, 'info');
    const event = historyEvent('c-1');
    expect(await serve(event)).toStrictEqual({ status: 200, headers: { 'Content-Type': 'application/json', 'x-amzn-RequestId': event.requestContext.requestId }, body: page });
    expect(appendKeys).toHaveBeenCalledWith({ correlationId: event.requestContext.requestId });
    expect(info).toHaveBeenCalledWith('history', { contactId: 'c-1', transfers: 1, more: true });
  });

  it('logs the last page as having no more', async () => {
    const { serve } = setUp({ history: async () => ({ Transfers: [] }) });
    const info = vi.spyOn(logger, 'info');
    await serve(historyEvent('c-1'));
    expect(info).toHaveBeenCalledWith('history', { contactId: 'c-1', transfers: 0, more: false });
  });

  it('refuses a wrong parameter with a 400 naming it, before the ledger is read, and raises no error', async () => {
    const { serve, list } = setUp();
    const error = vi.spyOn(logger, 'error');
    const info = vi.spyOn(logger, 'info');
    const answer = await serve(historyEvent('c-1', { MaxResults: '0' }));
    expect(answer).toMatchObject({ status: 400, headers: { 'x-amzn-ErrorType': 'InvalidRequestException' }, body: { ReasonCode: 'VALIDATION_FAILED', Fields: [{ Field: 'MaxResults' }] } });
    expect(list).not.toHaveBeenCalled();
    expect(error).not.toHaveBeenCalled();
    expect(info).toHaveBeenCalledWith('history', { reason: 'VALIDATION_FAILED', status: 400 });
  });

  it('answers a ledger failure with a 500 that reveals nothing, and logs its cause at error level for the operator', async () => {
    const cause = new Error('ResourceNotFoundException: Requested resource not found: table ledger-table');
    const { serve } = setUp({ history: async () => Promise.reject(cause) });
    const error = vi.spyOn(logger, 'error');
    const answer = await serve(historyEvent('c-1'));
    expect(answer).toMatchObject({ status: 500, body: { ReasonCode: 'INTERNAL_ERROR', Type: 'InternalServiceException' } });
    expect(JSON.stringify(answer.body)).not.toContain('ledger-table');
    expect(error).toHaveBeenCalledWith('history', { reason: 'INTERNAL_ERROR', error: cause });
  });

  it('answers a failure the history names itself with its own status, logging the failure itself when it has no cause', async () => {
    const throttled = TransferError.of('THROTTLED');
    const { serve } = setUp({ history: async () => Promise.reject(throttled) });
    const error = vi.spyOn(logger, 'error');
    expect(await serve(historyEvent('c-1'))).toMatchObject({ status: 429, body: { ReasonCode: 'THROTTLED' } });
    expect(error).toHaveBeenCalledWith('history', { reason: 'THROTTLED', error: throttled });
  });
});
