import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect } from 'vitest';
import { HISTORY_RESOURCE } from '../../lambda/doors/history';
import { asHttp, httpEvent, lambdaContext, transferEvent } from '../support/gateway-harness';
import { gatewayTest } from '../support/gateway-test';

/**
 * What a hostile or careless caller can send, through the real handler over real HTTP: it must end in a clear
 * 400-style rejection on every door, never a 5xx, never a transfer, and never under a door or caller it chose itself.
 */
const it = gatewayTest()
  .extend('connectCalls', { scope: 'file' }, ({ harness }) => (): number => harness.connect.callCount())
  .extend('validRequest', { scope: 'file' }, ({ fx }) => () => ({ ContactId: fx.contact(), ContactFlowId: fx.flows.queueTransfer, QueueId: fx.queues.enabled }));
const invalidRequestThrown = { name: 'InvalidRequestException', message: expect.stringMatching(/^VALIDATION_FAILED: /) as unknown };

describe('a lone UTF-16 surrogate is VALIDATION_FAILED on every door, before anything reaches Connect', () => {
  const withLoneSurrogate = (request: Record<string, string>, member: string) => ({ ...request, [member]: `${member}-\ud800` });

  it.for(['ContactId', 'ContactFlowId', 'QueueId', 'ClientToken'])('HTTPS: in %s, 400 naming the member', async (member, { gateway, connectCalls, validRequest }) => {
    const before = connectCalls();
    const answer = asHttp(await gateway(httpEvent(withLoneSurrogate(validRequest(), member)), lambdaContext()));
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ ReasonCode: 'VALIDATION_FAILED', Fields: [expect.objectContaining({ Field: member })] });
    expect(connectCalls()).toBe(before);
  });

  it('HTTPS: in the Idempotency-Key header, 400 naming ClientToken', async ({ gateway, validRequest }) => {
    const answer = asHttp(await gateway(httpEvent(validRequest(), { 'Idempotency-Key': 'key-\udbff' }), lambdaContext()));
    expect(answer.status).toBe(400);
    expect(answer.body.ReasonCode).toBe('VALIDATION_FAILED');
  });

  it('EventBridge: rejected (final, not retried)', async ({ gateway, connectCalls, validRequest }) => {
    const before = connectCalls();
    await expect(gateway(transferEvent(withLoneSurrogate(validRequest(), 'ContactId')), lambdaContext())).resolves.toEqual({ outcome: 'rejected', ReasonCode: 'VALIDATION_FAILED' });
    expect(connectCalls()).toBe(before);
  });

  it('direct invoke: InvalidRequestException', async ({ gateway, connectCalls, validRequest }) => {
    const before = connectCalls();
    await expect(gateway(withLoneSurrogate(validRequest(), 'ContactId'), lambdaContext())).rejects.toMatchObject(invalidRequestThrown);
    expect(connectCalls()).toBe(before);
  });

  it('two different malformed tokens on one request are two refusals: neither transfers, neither replays the other', async ({ gateway, transfers, validRequest }) => {
    const request = validRequest();
    const before = transfers();
    const first = asHttp(await gateway(httpEvent({ ...request, ClientToken: 'case-\ud800' }), lambdaContext()));
    const second = asHttp(await gateway(httpEvent({ ...request, ClientToken: 'case-\ud801' }), lambdaContext()));
    expect([first.status, second.status]).toEqual([400, 400]);
    expect(second.headers['Idempotent-Replayed']).toBeUndefined();
    expect(transfers()).toBe(before);
  });
});

describe('an API Gateway-shaped event API Gateway would never send is a direct invocation, rejected as a request', () => {
  it.for<[string, (event: APIGatewayProxyEvent) => unknown]>([
    ['a numeric body', (event) => ({ ...event, body: 42 })],
    ['an object body', (event) => ({ ...event, body: { ContactId: 'c' } })],
    ['multiValueHeaders that are not lists', (event) => ({ ...event, multiValueHeaders: { 'Idempotency-Key': 'key-1' } })],
    ['headers that are a string', (event) => ({ ...event, headers: 'Idempotency-Key: key-1' })],
    ['a history route with a numeric ContactId', (event) => ({ ...event, httpMethod: 'GET', resource: HISTORY_RESOURCE, body: null, pathParameters: { ContactId: 42 } })],
  ])('%s: InvalidRequestException, not a 5xx, and no transfer', async ([_case, malform], { gateway, transfers, validRequest }) => {
    const before = transfers();
    await expect(gateway(malform(httpEvent(validRequest())), lambdaContext())).rejects.toMatchObject(invalidRequestThrown);
    expect(transfers()).toBe(before);
  });
});

describe('who asked cannot be forged through the payload (contract section 7)', () => {
  it('an API Gateway event for another REST API is not the HTTPS door: no transfer under a caller of its choosing', async ({ gateway, transfers, validRequest }) => {
    const forged = httpEvent(validRequest());
    forged.requestContext = { ...forged.requestContext, apiId: 'someoneelse', identity: { ...forged.requestContext.identity, userArn: 'arn:aws:iam::111122223333:role/admin' } };
    const before = transfers();
    await expect(gateway(forged, lambdaContext())).rejects.toMatchObject(invalidRequestThrown);
    expect(transfers()).toBe(before);
  });

  it('an API Gateway event from another account is not the HTTPS door', async ({ gateway, validRequest }) => {
    const forged = httpEvent(validRequest());
    forged.requestContext = { ...forged.requestContext, accountId: '999999999999' };
    await expect(gateway(forged, lambdaContext())).rejects.toMatchObject(invalidRequestThrown);
  });

  it('an EventBridge event from a source the rule does not match is not the EventBridge door', async ({ gateway, transfers, validRequest }) => {
    const before = transfers();
    await expect(gateway(transferEvent(validRequest(), undefined, 'someone.else'), lambdaContext())).rejects.toMatchObject(invalidRequestThrown);
    expect(transfers()).toBe(before);
  });

  it('an EventBridge event put in another account is not the EventBridge door', async ({ gateway, validRequest }) => {
    const forged = { ...transferEvent(validRequest()), account: '999999999999' };
    await expect(gateway(forged, lambdaContext())).rejects.toMatchObject(invalidRequestThrown);
  });

  it('the genuine events of each door still transfer', async ({ gateway, validRequest }) => {
    expect(asHttp(await gateway(httpEvent(validRequest()), lambdaContext())).status).toBe(200);
    await expect(gateway(transferEvent(validRequest()), lambdaContext())).resolves.toMatchObject({ outcome: 'transferred' });
  });
});

describe('a body of 1,000 unknown members gets a short error', () => {
  it('HTTPS: 400 listing 10 of them, each name cut short, in a few hundred bytes', async ({ gateway, validRequest }) => {
    // Within the 16 KiB body limit: short names, and one long one listed first.
    const body: Record<string, unknown> = { ...validRequest(), ['long'.repeat(500)]: 1 };
    for (let index = 1; index < 1000; index++) body[`m${index}`] = 1;
    const response = await gateway(httpEvent(body), lambdaContext());
    const answer = asHttp(response);
    expect(answer.status).toBe(400);
    expect(answer.body.Fields).toHaveLength(10);
    expect(String(answer.body.Message)).toContain('1000 problems');
    const [longName] = answer.body.Fields as { Field: string }[];
    expect(longName?.Field).toHaveLength(64);
    expect(longName?.Field).toMatch(/^long.*…$/);
    expect((response as { body: string }).body.length).toBeLessThan(3000);
  });
});
