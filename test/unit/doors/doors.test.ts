import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { TransferError } from '../../../lambda/domain/errors';
import type { KnownReason } from '../../../lambda/domain/errors';
import { directDoor } from '../../../lambda/doors/direct';
import { bufferedRecordDoor, isBufferEvent } from '../../../lambda/doors/sqs';
import type { TransferEvent } from '../../../lambda/doors/sqs';
import { httpDoor, isApiGatewayEvent } from '../../../lambda/doors/http';
import type { Origin } from '../../../lambda/ports';
import type { TransferOutcome } from '../../../lambda/usecase/transfer-contact';
import type { DoorTrust } from '../../../lambda/config';
import { apiGatewayProxyEvent, LOCAL_API } from '../../../local/lambda-events';

const INSTANCE_ARN = 'arn:aws:connect:eu-west-1:123456789012:instance/11111111-1111-4111-8111-111111111111';
const request = { ContactId: 'c-1', ContactFlowId: 'f-1' };
const result = { ContactId: 'c-2', ContactArn: `${INSTANCE_ARN}/contact/c-2` };
const origin: Origin = { door: 'https', caller: 'arn:aws:iam::123456789012:user/alice', correlationId: 'req-1' };

/** The same builder local mode uses, so these tests see events shaped as API Gateway sends them. */
function apiEvent(overrides: Partial<APIGatewayProxyEvent> = {}): APIGatewayProxyEvent {
  return {
    ...apiGatewayProxyEvent({ body: JSON.stringify(request), headers: { 'Content-Type': 'application/json' }, callerArn: origin.caller, account: '123456789012' }),
    ...overrides,
  };
}

function withHeader(name: string, value: string, body: unknown = request): APIGatewayProxyEvent {
  return apiEvent({ body: JSON.stringify(body), headers: { [name]: value }, multiValueHeaders: { [name]: [value] } });
}

const eventBridgeEvent: TransferEvent = {
  version: '0',
  id: 'evt-1',
  'detail-type': 'TransferContact',
  source: 'internal.contact-transfer',
  account: '123456789012',
  time: '2025-01-01T00:00:00Z',
  region: 'eu-west-1',
  resources: [],
  detail: request,
};

function validationFailureOf(call: () => unknown): TransferError {
  let caught: unknown;
  try {
    call();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(TransferError);
  expect(caught).toMatchObject({ reason: 'VALIDATION_FAILED', status: 400, type: 'InvalidRequestException' });
  return caught as TransferError;
}

describe('httpDoor.input: the body', () => {
  it('parses a JSON body', () => {
    expect(httpDoor.input(apiEvent())).toEqual(request);
  });

  it.each([
    ['null', null],
    ['empty', ''],
  ])('a %s body is VALIDATION_FAILED', (_case, body) => {
    expect(validationFailureOf(() => httpDoor.input(apiEvent({ body }))).message).toMatch(/JSON body/);
  });

  it('decodes a base64 body', () => {
    const body = Buffer.from(JSON.stringify(request), 'utf8').toString('base64');
    expect(httpDoor.input(apiEvent({ body, isBase64Encoded: true }))).toEqual(request);
  });

  it.each([
    ['not JSON', '{"ContactId": '],
    ['a bare word', 'transfer'],
  ])('a body that is %s is VALIDATION_FAILED', (_case, body) => {
    expect(validationFailureOf(() => httpDoor.input(apiEvent({ body }))).message).toMatch(/not valid JSON/);
  });

  const bodyOfBytes = (bytes: number): string => {
    const skeleton = JSON.stringify({ ...request, ClientToken: '' });
    return JSON.stringify({ ...request, ClientToken: 'x'.repeat(bytes - skeleton.length) });
  };

  it('accepts a body of exactly 16 KiB (the schema, not the door, judges its members)', () => {
    const body = bodyOfBytes(16 * 1024);
    expect(Buffer.byteLength(body)).toBe(16384);
    expect(httpDoor.input(apiEvent({ body }))).toMatchObject(request);
  });

  it('rejects a body of 16 KiB and one byte', () => {
    const body = bodyOfBytes(16 * 1024 + 1);
    expect(validationFailureOf(() => httpDoor.input(apiEvent({ body }))).message).toMatch(/16 KiB/);
  });

  it('counts bytes, not characters: 16 KiB of multi-byte text is over the limit', () => {
    const body = JSON.stringify({ ...request, ClientToken: 'é'.repeat(8200) });
    expect(body.length).toBeLessThan(16384);
    validationFailureOf(() => httpDoor.input(apiEvent({ body })));
  });

  it('measures a base64 body after decoding', () => {
    const body = Buffer.from(bodyOfBytes(16 * 1024)).toString('base64');
    expect(body.length).toBeGreaterThan(16384);
    expect(httpDoor.input(apiEvent({ body, isBase64Encoded: true }))).toMatchObject(request);
  });
});

describe('httpDoor.input: the Idempotency-Key header', () => {
  it.each(['Idempotency-Key', 'idempotency-key', 'IDEMPOTENCY-KEY'])('%s becomes the ClientToken', (name) => {
    expect(httpDoor.input(withHeader(name, 'key-1'))).toEqual({ ...request, ClientToken: 'key-1' });
  });

  it('is also read when only `headers` carries it', () => {
    expect(httpDoor.input(apiEvent({ headers: { 'idempotency-key': 'key-1' }, multiValueHeaders: {} }))).toMatchObject({ ClientToken: 'key-1' });
  });

  it('equal to the body ClientToken is fine', () => {
    expect(httpDoor.input(withHeader('Idempotency-Key', 'key-1', { ...request, ClientToken: 'key-1' }))).toEqual({ ...request, ClientToken: 'key-1' });
  });

  it('different from the body ClientToken is VALIDATION_FAILED naming Idempotency-Key', () => {
    const error = validationFailureOf(() => httpDoor.input(withHeader('Idempotency-Key', 'key-1', { ...request, ClientToken: 'key-2' })));
    expect(error.fields).toEqual([expect.objectContaining({ Field: 'Idempotency-Key' })]);
  });

  it('given twice with different values is VALIDATION_FAILED', () => {
    const event = apiEvent({ headers: { 'Idempotency-Key': 'key-2' }, multiValueHeaders: { 'Idempotency-Key': ['key-1', 'key-2'] } });
    expect(validationFailureOf(() => httpDoor.input(event)).fields).toEqual([expect.objectContaining({ Field: 'Idempotency-Key' })]);
  });

  it('given twice with the same value is fine', () => {
    const event = apiEvent({ headers: { 'Idempotency-Key': 'key-1' }, multiValueHeaders: { 'idempotency-key': ['key-1', 'key-1'] } });
    expect(httpDoor.input(event)).toMatchObject({ ClientToken: 'key-1' });
  });

  it('absent: the body is passed on as it is', () => {
    expect(httpDoor.input(apiEvent({ body: JSON.stringify({ ...request, ClientToken: 'body-token' }) }))).toEqual({
      ...request,
      ClientToken: 'body-token',
    });
  });
});

describe('httpDoor.succeeded', () => {
  it('answers 200 with exactly ContactId and ContactArn, without Idempotent-Replayed on a first transfer', () => {
    const outcome: TransferOutcome = { result: { ...result, Extra: 'x' } as typeof result, replayed: false, treeId: 'c-0' };
    const response = httpDoor.succeeded(outcome, origin);
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual(result);
    expect(Object.keys(JSON.parse(response.body) as object)).toEqual(['ContactId', 'ContactArn']);
    expect(response.headers).not.toHaveProperty('Idempotent-Replayed');
    expect(response.headers).toMatchObject({ 'Content-Type': 'application/json' });
  });

  it('marks a replay with Idempotent-Replayed: true and the same body', () => {
    const first = httpDoor.succeeded({ result, replayed: false }, origin);
    const replay = httpDoor.succeeded({ result, replayed: true }, origin);
    expect(replay.headers).toMatchObject({ 'Idempotent-Replayed': 'true' });
    expect(replay.statusCode).toBe(first.statusCode);
    expect(replay.body).toBe(first.body);
  });
});

describe('httpDoor.failed', () => {
  it.each<[KnownReason, number, string]>([
    ['VALIDATION_FAILED', 400, 'InvalidRequestException'],
    ['TRANSFER_LIMIT_REACHED', 402, 'ServiceQuotaExceededException'],
    ['INSTANCE_NOT_ALLOWED', 403, 'AccessDeniedException'],
    ['CONTACT_NOT_FOUND', 404, 'ResourceNotFoundException'],
    ['REQUEST_IN_PROGRESS', 409, 'IdempotencyException'],
    ['THROTTLED', 429, 'ThrottlingException'],
    ['INTERNAL_ERROR', 500, 'InternalServiceException'],
  ])('%s answers %i with x-amzn-ErrorType %s and the body of contract section 5', (reason, status, type) => {
    const error = TransferError.of(reason);
    const response = httpDoor.failed(error, origin);
    expect(response.statusCode).toBe(status);
    expect(response.headers).toMatchObject({ 'x-amzn-ErrorType': type, 'Content-Type': 'application/json' });
    expect(JSON.parse(response.body)).toEqual({ Type: type, ReasonCode: reason, Message: error.message });
  });

  it('adds Fields to a VALIDATION_FAILED', () => {
    const fields = [{ Field: 'ContactId', Message: 'is required' }];
    expect(JSON.parse(httpDoor.failed(TransferError.of('VALIDATION_FAILED', { fields }), origin).body)).toMatchObject({ Fields: fields });
  });

  it('passes Connect\'s own status and type on for CONNECT_REJECTED', () => {
    const response = httpDoor.failed(TransferError.connectRejected(409, 'ResourceConflictException', 'Conflict.'), origin);
    expect(response.statusCode).toBe(409);
    expect(response.headers).toMatchObject({ 'x-amzn-ErrorType': 'ResourceConflictException' });
    expect(JSON.parse(response.body)).toEqual({ Type: 'ResourceConflictException', ReasonCode: 'CONNECT_REJECTED', Message: 'Conflict.' });
  });

  it.each<KnownReason>(['UPSTREAM_FAILURE', 'INTERNAL_ERROR'])('a %s body reveals no stack, cause, table or ARN', (reason) => {
    const cause = new Error(`ResourceNotFoundException: Requested resource not found: table idempotency-table in ${INSTANCE_ARN}`);
    const response = httpDoor.failed(TransferError.of(reason, { cause }), origin);
    expect(response.statusCode).toBe(500);
    for (const leak of ['arn:', 'idempotency-table', '.ts:', 'stack', 'cause']) expect(response.body).not.toContain(leak);
    expect(response.body).not.toMatch(/\n\s+at /);
    expect(Object.keys(JSON.parse(response.body) as object).sort()).toEqual(['Message', 'ReasonCode', 'Type']);
  });
});

describe('bufferedRecordDoor', () => {
  const finalReasons: KnownReason[] = [
    'VALIDATION_FAILED',
    'QUEUE_AND_USER_BOTH_SET',
    'INSTANCE_NOT_ALLOWED',
    'CONTACT_NOT_FOUND',
    'CHANNEL_NOT_SUPPORTED',
    'CONTACT_NOT_ACTIVE',
    'FLOW_NOT_FOUND',
    'FLOW_TYPE_NOT_SUPPORTED',
    'FLOW_NOT_ACTIVE',
    'FLOW_TARGET_MISMATCH',
    'QUEUE_NOT_FOUND',
    'QUEUE_DISABLED',
    'USER_NOT_FOUND',
    'TRANSFER_LIMIT_REACHED',
    'CLIENT_TOKEN_REUSED',
  ];

  it.each(finalReasons)('%s is answered as rejected, so the record is deleted and never retried', (reason) => {
    expect(bufferedRecordDoor.failed(TransferError.of(reason), origin)).toMatchObject({ outcome: 'rejected', ReasonCode: reason });
  });

  it('a 4xx CONNECT_REJECTED is final too, with its type and message for the failure record', () => {
    expect(bufferedRecordDoor.failed(TransferError.connectRejected(400, 'InvalidRequestException', 'No.'), origin)).toEqual({
      outcome: 'rejected',
      Type: 'InvalidRequestException',
      ReasonCode: 'CONNECT_REJECTED',
      Message: 'No.',
    });
  });

  it.each<[KnownReason, string]>([
    ['THROTTLED', 'ThrottlingException'],
    ['REQUEST_IN_PROGRESS', 'IdempotencyException'],
    ['UPSTREAM_FAILURE', 'InternalServiceException'],
    ['INTERNAL_ERROR', 'InternalServiceException'],
  ])('%s throws the TransferError itself (type %s), so the record returns to the buffer with its reason typed', (reason, type) => {
    let thrown: unknown;
    try {
      bufferedRecordDoor.failed(TransferError.of(reason), origin);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TransferError);
    expect(thrown).toMatchObject({ reason, type });
  });

  it.each([
    [false, 'transferred'],
    [true, 'replayed'],
  ] as const)('reports a success (replayed=%s) as %s with the result', (replayed, outcome) => {
    expect(bufferedRecordDoor.succeeded({ result, replayed }, origin)).toEqual({ outcome, ...result });
  });
});

describe('directDoor', () => {
  it.each<[KnownReason, string]>([
    ['CONTACT_NOT_FOUND', 'ResourceNotFoundException'],
    ['VALIDATION_FAILED', 'InvalidRequestException'],
    ['INSTANCE_NOT_ALLOWED', 'AccessDeniedException'],
    ['TRANSFER_LIMIT_REACHED', 'ServiceQuotaExceededException'],
    ['THROTTLED', 'ThrottlingException'],
  ])('%s throws an Error named %s whose message starts with the reason', (reason, type) => {
    expect(() => directDoor.failed(TransferError.of(reason), origin)).toThrow(
      expect.objectContaining({ name: type, message: expect.stringMatching(new RegExp(`^${reason}\\b`)) as unknown }),
    );
  });

  it('returns exactly ContactId and ContactArn on success, also on a replay', () => {
    expect(directDoor.succeeded({ result: { ...result, Extra: 1 } as typeof result, replayed: true }, origin)).toEqual(result);
  });

  it('takes the payload as the request and names the invocation as caller', () => {
    expect(directDoor.input(request)).toBe(request);
    expect(directDoor.origin(request, { awsRequestId: 'inv-1' } as Context)).toEqual({ door: 'invoke', caller: 'invoke', correlationId: 'inv-1' });
  });
});

describe('door detection: only what the stack\'s own doors set chooses a door (contract section 7)', () => {
  const trust: DoorTrust = { account: '123456789012', api: { id: LOCAL_API.id, stage: LOCAL_API.stage }, eventSources: ['internal.contact-transfer'] };
  const api = apiEvent();
  const withContext = (overrides: Record<string, unknown>): unknown => ({ ...api, requestContext: { ...api.requestContext, ...overrides } });

  // Only the case's name in the title: an event printed there carries a fresh request id, and a title that changes
  // from run to run cannot be picked out again (npm run mutate runs each test by its title).
  it.each<[string, boolean, unknown]>([
    ['an API Gateway proxy event', true, apiEvent()],
    ['an EventBridge event', false, eventBridgeEvent],
    ['a plain request (direct invoke)', false, request],
    ['a plain request with every member', false, { ...request, QueueId: 'q', ClientToken: 't', InstanceId: 'i' }],
    ['null', false, null],
    ['a string', false, 'transfer'],
  ])('%s: API Gateway=%s, and never the buffer', (_case, isApi, event) => {
    expect(isApiGatewayEvent(event, trust)).toBe(isApi);
    expect(isBufferEvent(event, 'arn:aws:sqs:us-east-1:123456789012:buffer')).toBe(false);
  });

  it.each<[string, unknown]>([
    ['another REST API', withContext({ apiId: 'abcdef1234' })],
    ['another account', withContext({ accountId: '999999999999' })],
    ['another stage', withContext({ stage: 'prod' })],
    ['no IAM caller', withContext({ identity: { ...api.requestContext.identity, userArn: null } })],
    ['no requestContext', { ...api, requestContext: undefined }],
    ['a numeric body', { ...api, body: 42 }],
    ['multiValueHeaders that are not lists', { ...api, multiValueHeaders: { 'Idempotency-Key': 'k' } }],
    ['a header value that is not a string', { ...api, headers: { 'Idempotency-Key': 7 } }],
    ['a non-boolean isBase64Encoded', { ...api, isBase64Encoded: 'yes' }],
    ['path parameters that are not strings', { ...api, pathParameters: { ContactId: 7 } }],
    ['query parameters that are a string', { ...api, queryStringParameters: 'MaxResults=5' }],
  ])('an API Gateway-shaped event with %s is not the HTTPS door', (_case, event) => {
    expect(isApiGatewayEvent(event, trust)).toBe(false);
  });

  it('without a configured API, no event is the HTTPS door', () => {
    expect(isApiGatewayEvent(api, { account: trust.account, eventSources: trust.eventSources })).toBe(false);
  });
});

describe('origin of each door (who asked, contract section 7)', () => {
  it('HTTPS: the IAM caller ARN and the API Gateway request id', () => {
    const event = apiEvent();
    expect(httpDoor.origin(event, {} as Context)).toEqual({ door: 'https', caller: 'arn:aws:iam::123456789012:user/alice', correlationId: event.requestContext.requestId });
  });

});

describe('the HTTPS door: events API Gateway sends that the shape check must let through or stop', () => {
  const trust: DoorTrust = { account: '123456789012', api: { id: LOCAL_API.id, stage: LOCAL_API.stage }, eventSources: ['internal.contact-transfer'] };
  const api = apiEvent();
  const withContext = (overrides: Record<string, unknown>): unknown => ({ ...api, requestContext: { ...api.requestContext, ...overrides } });

  it.each<[string, unknown]>([
    ['no body (a GET)', { ...api, body: null }],
    ['no isBase64Encoded member', { ...api, isBase64Encoded: undefined }],
    ['no headers at all', { ...api, headers: null, multiValueHeaders: null }],
    ['several values of one header', { ...api, multiValueHeaders: { Accept: ['a', 'b'] } }],
  ])('an event with %s is the HTTPS door', (_case, event) => {
    expect(isApiGatewayEvent(event, trust)).toBe(true);
  });

  it.each<[string, unknown]>([
    ['no request id', withContext({ requestId: 7 })],
    ['an empty IAM caller', withContext({ identity: { ...api.requestContext.identity, userArn: '' } })],
    ['an identity that is not an object', withContext({ identity: 'alice' })],
    ['no method', { ...api, httpMethod: undefined }],
    ['a header list holding a number', { ...api, multiValueHeaders: { Accept: ['a', 7] } }],
  ])('an event with %s is not the HTTPS door', (_case, event) => {
    expect(isApiGatewayEvent(event, trust)).toBe(false);
  });

  it('an Idempotency-Key with a body that is not a JSON object leaves the body for rule 1 to refuse', () => {
    expect(httpDoor.input(withHeader('Idempotency-Key', 'key-1', [request]))).toEqual([request]);
    expect(httpDoor.input(withHeader('Idempotency-Key', 'key-1', 'text'))).toBe('text');
  });

  it('tells the caller what is wrong with the body or the key in words', () => {
    expect(validationFailureOf(() => httpDoor.input(apiEvent({ body: '' }))).message).toBe('The request needs a JSON body with the members of TransferContact.');
    const tooLarge = JSON.stringify({ ...request, ClientToken: 'x'.repeat(16 * 1024) });
    expect(validationFailureOf(() => httpDoor.input(apiEvent({ body: tooLarge }))).message).toBe('The body is larger than 16 KiB.');
    expect(validationFailureOf(() => httpDoor.input(withHeader('Idempotency-Key', 'key-1', { ...request, ClientToken: 'key-2' }))).fields).toEqual([
      { Field: 'Idempotency-Key', Message: 'differs from ClientToken; send one of them, or the same value in both' },
    ]);
    const twice = apiEvent({ headers: { 'Idempotency-Key': 'key-2' }, multiValueHeaders: { 'Idempotency-Key': ['key-1', 'key-2'] } });
    expect(validationFailureOf(() => httpDoor.input(twice)).fields).toEqual([{ Field: 'Idempotency-Key', Message: 'is given more than once with different values' }]);
  });
});
