import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect } from 'vitest';
import { HISTORY_RESOURCE } from '../../lambda/domain/history';
import { eventFor } from '../support/doors';
import { asHttp, httpEvent, lambdaContext, ledgerItems, transferEvent } from '../support/gateway-harness';
import { gatewayTest } from '../support/gateway-test';

/**
 * What a hostile or careless caller can send, through the real handler over real HTTP: it must end in a clear
 * 400-style rejection on every door, never a 5xx, never a transfer, and never under a door or caller it chose itself.
 */
const it = gatewayTest()
  .extend('connectCalls', { scope: 'file' }, ({ harness }) => (): number => harness.connect.callCount())
  .extend('validRequest', { scope: 'file' }, ({ fx }) => () => ({ ContactId: fx.contact(), ContactFlowId: fx.flows.queueTransfer, QueueId: fx.queues.enabled }));
const unrecognisedEvent = { name: 'UnrecognisedEvent' };
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

  it('direct invoke: InvalidRequestException', async ({ gateway, connectCalls, validRequest }) => {
    const before = connectCalls();
    await expect(gateway.direct(withLoneSurrogate(validRequest(), 'ContactId'), lambdaContext())).rejects.toMatchObject(invalidRequestThrown);
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

describe('an API Gateway-shaped event API Gateway would never send is refused, never a transfer', () => {
  it.for<[string, (event: APIGatewayProxyEvent) => unknown]>([
    ['a numeric body', (event) => ({ ...event, body: 42 })],
    ['an object body', (event) => ({ ...event, body: { ContactId: 'c' } })],
    ['multiValueHeaders that are not lists', (event) => ({ ...event, multiValueHeaders: { 'Idempotency-Key': 'key-1' } })],
    ['headers that are a string', (event) => ({ ...event, headers: 'Idempotency-Key: key-1' })],
    ['a history route with a numeric ContactId', (event) => ({ ...event, httpMethod: 'GET', resource: HISTORY_RESOURCE, body: null, pathParameters: { ContactId: 42 } })],
  ])('%s: the service function refuses the event, the direct function the request; no transfer', async ([_case, malform], { gateway, transfers, validRequest }) => {
    const before = transfers();
    await expect(gateway(malform(httpEvent(validRequest())), lambdaContext())).rejects.toMatchObject(unrecognisedEvent);
    await expect(gateway.direct(malform(httpEvent(validRequest())), lambdaContext())).rejects.toMatchObject(invalidRequestThrown);
    expect(transfers()).toBe(before);
  });
});

describe('who asked cannot be forged by a caller (contract section 3.3)', () => {
  it('a direct invocation shaped as the stack\'s own API Gateway event, any caller ARN in it, is not recorded as that caller: refused as a request', async ({ harness, gateway, transfers, validRequest }) => {
    const request = validRequest();
    const forged = httpEvent(request);
    const victim = 'arn:aws:sts::111122223333:assumed-role/victim/someone';
    forged.requestContext = { ...forged.requestContext, identity: { ...forged.requestContext.identity, userArn: victim } };
    const before = transfers();
    await expect(gateway.direct(forged, lambdaContext())).rejects.toMatchObject(invalidRequestThrown);
    expect(transfers()).toBe(before);
    expect(await ledgerItems(harness, `CONTACT#${request.ContactId}`)).toEqual([]);
  });

  it('a buffer-shaped direct invocation is refused as a request too', async ({ gateway, transfers, validRequest }) => {
    const before = transfers();
    await expect(gateway.direct(eventFor('buffered', validRequest()), lambdaContext())).rejects.toMatchObject(invalidRequestThrown);
    expect(transfers()).toBe(before);
  });

  it.for<[string, (event: APIGatewayProxyEvent) => APIGatewayProxyEvent]>([
    ['another REST API', (event) => ({ ...event, requestContext: { ...event.requestContext, apiId: 'someoneelse' } })],
    ['another account', (event) => ({ ...event, requestContext: { ...event.requestContext, accountId: '999999999999' } })],
  ])('an API Gateway event of %s is refused by the service function: not its API', async ([_case, forge], { gateway, transfers, validRequest }) => {
    const before = transfers();
    await expect(gateway(forge(httpEvent(validRequest())), lambdaContext())).rejects.toMatchObject(unrecognisedEvent);
    expect(transfers()).toBe(before);
  });

  it('an EventBridge event handed to either function is no door: the rule delivers into the buffer', async ({ gateway, transfers, validRequest }) => {
    const before = transfers();
    await expect(gateway(transferEvent(validRequest()), lambdaContext())).rejects.toMatchObject(unrecognisedEvent);
    await expect(gateway.direct(transferEvent(validRequest()), lambdaContext())).rejects.toMatchObject(invalidRequestThrown);
    expect(transfers()).toBe(before);
  });

  it('the genuine events of each door still transfer', async ({ gateway, validRequest }) => {
    expect(asHttp(await gateway(httpEvent(validRequest()), lambdaContext())).status).toBe(200);
    await expect(gateway.direct(validRequest(), lambdaContext())).resolves.toMatchObject({ ContactId: expect.any(String) });
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
