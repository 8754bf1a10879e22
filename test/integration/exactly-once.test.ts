import { randomUUID } from 'node:crypto';
import { ConnectClient, TransferContactCommand } from '@aws-sdk/client-connect';
import { describe, expect } from 'vitest';
import { DynamoDbLedger } from '../../lambda/adapters/ledger';
import type { GatewayContainer } from '../support/gateway-harness';
import { answerOf, DOOR_REPORTS, DOORS, eventFor, invokeThrough, RETURNED_TO_BUFFER, settle } from '../support/doors';
import type { DoorAnswer, DoorName } from '../support/doors';
import { gatewayRequests, startInterposer } from '../support/interposer';
import { asHttp, httpEvent, lambdaContext, ledgerItems } from '../support/gateway-harness';
import type { SQSEvent } from 'aws-lambda';
import { gatewayTest } from '../support/gateway-test';
import { createGatewayTables } from '../../local/embedded-dynamodb';

/** Between the function and DynamoDB, to fail or hold the ledger's and the idempotency store's writes. */
const it = gatewayTest()
  .extend('dynamoProxy', { scope: 'file' }, async ({ harness }, { onCleanup }) => {
    const proxy = await startInterposer(harness.dynamodb.url);
    onCleanup(() => proxy.close());
    return proxy;
  })
  /** A fresh container whose DynamoDB requests pass through `dynamoProxy`. */
  .extend('proxiedContainer', { scope: 'file' }, ({ harness, dynamoProxy }) => (env: Record<string, string> = {}): GatewayContainer =>
    harness.newContainer({ ...env, AWS_ENDPOINT_URL_DYNAMODB: dynamoProxy.url }),
  )
  .extend('tables', { scope: 'file' }, ({ harness }) => ({ idempotency: harness.config.idempotencyTable, ledger: harness.config.ledgerTable }))
  /** Transfers Connect performed from this contact; token replays change nothing and are not counted. */
  .extend('acceptedTransfersOf', { scope: 'file' }, ({ harness }) => (contactId: string) =>
    harness.connect.calls('TransferContact').filter((c) => c.input.ContactId === contactId && c.status === 200 && !c.tokenReplay),
  )
  .extend('requestFor', { scope: 'file' }, ({ queueTransfer }) => (withToken: boolean): Record<string, string> => ({ ...queueTransfer(), ...(withToken && { ClientToken: randomUUID() }) }))
  .extend('contactItem', { scope: 'file' }, ({ harness }) => async (contactId: string): Promise<Record<string, unknown> | undefined> => (await ledgerItems(harness, `CONTACT#${contactId}`))[0])
  .extend('ledgerRecords', { scope: 'file' }, ({ harness }) => (treeId: string) => ledgerItems(harness, `TREE#${treeId}`))
  .extend('ledger', { scope: 'file' }, ({ harness }) => () => new DynamoDbLedger(harness.dynamodbClient(), harness.config.ledgerTable, 30));

it.beforeEach(async ({ harness, dynamoProxy }) => {
  harness.dynamodb.clearFaults();
  harness.connect.setLatency(0);
  dynamoProxy.clear();
  await harness.resetPacer();
});

const call = async (handler: GatewayContainer, door: DoorName, event: unknown, remainingMs?: number): Promise<DoorAnswer> =>
  answerOf(door, await settle(invokeThrough(handler, door, event, lambdaContext(remainingMs))));
const VARIANTS = DOORS.flatMap((door) => [
  { door, withToken: true },
  { door, withToken: false },
]);
const post = async (handler: GatewayContainer, body: unknown, headers?: Record<string, string>, remainingMs?: number) =>
  asHttp(await handler(httpEvent(body, headers), lambdaContext(remainingMs)));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('replays (contract section 6)', () => {
  it('answers a replay with the same status and body, marked replayed, from another container, without a second transfer', async ({ harness, gateway, transfers, queueTransfer }) => {
    const request = queueTransfer();
    const key = { 'Idempotency-Key': randomUUID() };
    const first = await post(gateway, request, key);
    const before = transfers();

    const replay = await post(harness.newContainer(), request, key);
    expect(replay.status).toBe(first.status);
    expect(replay.body).toEqual(first.body);
    expect(replay.headers['Idempotent-Replayed']).toBe('true');
    expect(transfers()).toBe(before);
  });

  it('treats two identical token-less requests as one intent', async ({ gateway, transfers, queueTransfer }) => {
    const request = queueTransfer();
    const before = transfers();
    const first = await post(gateway, request);
    const second = await post(gateway, request);
    expect(second.body).toEqual(first.body);
    expect(second.headers['Idempotent-Replayed']).toBe('true');
    expect(transfers()).toBe(before + 1);
  });

  it('sends Connect a ClientToken derived from the key, the same across containers', async ({ harness, gateway, queueTransfer }) => {
    const token = randomUUID();
    harness.connect.failNext('TransferContact', 3, 'internal');
    const request = { ...queueTransfer(), ClientToken: token };
    expect((await post(gateway, request)).status).toBe(500);
    expect((await post(harness.newContainer(), request)).status).toBe(200);
    const tokens = new Set(harness.connect.calls('TransferContact').slice(-4).map((call) => call.input.ClientToken));
    expect(tokens.size).toBe(1);
    expect([...tokens][0]).not.toBe(token);
  });

  it('lets ten concurrent identical requests make exactly one transfer, and none of them a 5xx', async ({ harness, transfers, queueTransfer }) => {
    const request = queueTransfer();
    const before = transfers();
    harness.connect.setLatency(50, 'TransferContact');
    const answers = await Promise.all(Array.from({ length: 10 }, () => post(harness.newContainer(), request)));
    expect(transfers()).toBe(before + 1);
    expect(answers.filter((answer) => answer.status === 200).length).toBeGreaterThanOrEqual(1);
    for (const answer of answers) expect([200, 409]).toContain(answer.status);
    for (const answer of answers.filter((a) => a.status === 409)) expect(answer.body.ReasonCode).toBe('REQUEST_IN_PROGRESS');
  });

  it('two keys for one contact at once, 10 of 10 races: one TransferContact; the other 409 TRANSFER_IN_PROGRESS, then the rules once the first settled (contract section 6)', async ({ harness, queueTransfer, acceptedTransfersOf }) => {
    // Connect answers slowly, so that each race's second reservation meets the first one's transfer in flight.
    harness.connect.setLatency(150, 'TransferContact');
    for (let race = 1; race <= 10; race += 1) {
      const request = queueTransfer();
      const byKey = (key: string) => post(harness.newContainer(), { ...request, ClientToken: `${key}-${randomUUID()}` });
      const answers = await Promise.all([byKey('crm'), byKey('workflow')]);
      const label = `race ${race}`;
      expect(harness.connect.calls('TransferContact').filter((call) => call.input.ContactId === request.ContactId), label).toHaveLength(1);
      expect(acceptedTransfersOf(request.ContactId), label).toHaveLength(1);
      expect(answers.map((answer) => answer.status).sort(), label).toEqual([200, 409]);
      const refused = answers.find((answer) => answer.status === 409);
      expect(refused?.headers['x-amzn-ErrorType'], label).toBe('ResourceConflictException');
      expect(refused?.body, label).toMatchObject({ Type: 'ResourceConflictException', ReasonCode: 'TRANSFER_IN_PROGRESS' });
      // Settled: a third key is answered by the rules, and still never reaches Connect.
      const after = await post(harness.newContainer(), { ...request, ClientToken: randomUUID() });
      expect(after.body.ReasonCode, label).toBe('CONTACT_NOT_ACTIVE');
      expect(harness.connect.calls('TransferContact').filter((call) => call.input.ContactId === request.ContactId), label).toHaveLength(1);
    }
  });

  it('rejects the same token with another payload and transfers nothing', async ({ gateway, transfers, queueTransfer }) => {
    const key = { 'Idempotency-Key': randomUUID() };
    expect((await post(gateway, queueTransfer(), key)).status).toBe(200);
    const before = transfers();
    const reused = await post(gateway, queueTransfer(), key);
    expect(reused.status).toBe(409);
    expect(reused.body).toMatchObject({ Type: 'IdempotencyException', ReasonCode: 'CLIENT_TOKEN_REUSED' });
    expect(transfers()).toBe(before);
  });

  it('releases the key after a rejection, so a corrected retry with the same token runs', async ({ gateway, fx, transfers }) => {
    const key = { 'Idempotency-Key': randomUUID() };
    const contactId = fx.contact();
    const rejected = await post(gateway, { ContactId: contactId, ContactFlowId: fx.flows.archived }, key);
    expect(rejected.body.ReasonCode).toBe('FLOW_NOT_ACTIVE');
    const before = transfers();
    const corrected = await post(gateway, { ContactId: contactId, ContactFlowId: fx.flows.inbound }, key);
    expect(corrected.status).toBe(200);
    expect(transfers()).toBe(before + 1);
  });

  it('answers REQUEST_IN_PROGRESS over HTTPS and throws for EventBridge while the first request runs', async ({ harness, gateway, queueTransfer }) => {
    const request = queueTransfer();
    harness.connect.setLatency(400, 'TransferContact');
    const first = post(gateway, request);
    await sleep(150);
    const during = await post(harness.newContainer(), request);
    expect(during.status).toBe(409);
    expect(during.body.ReasonCode).toBe('REQUEST_IN_PROGRESS');
    await expect(harness.newContainer().direct(request, lambdaContext())).rejects.toMatchObject({ name: 'IdempotencyException' });
    expect((await first).status).toBe(200);
  });
});

describe('faults', () => {
  it('Connect throttled, then recovering: the same token then succeeds exactly once', async ({ harness, gateway, transfers, queueTransfer }) => {
    const request = { ...queueTransfer(), ClientToken: randomUUID() };
    const before = transfers();
    harness.connect.failNext('TransferContact', 3, 'throttle');
    expect((await post(gateway, request)).status).toBe(429);
    expect((await post(gateway, request)).status).toBe(200);
    expect((await post(gateway, request)).headers['Idempotent-Replayed']).toBe('true');
    expect(transfers()).toBe(before + 4);
    expect(harness.connect.contact(request.ContactId)?.DisconnectTimestamp).toBeDefined();
  });

  it('fails closed when DynamoDB cannot be reached: 500 INTERNAL_ERROR and no TransferContact, then recovers', async ({ harness, gateway, transfers, queueTransfer }) => {
    const request = queueTransfer();
    const before = transfers();
    harness.dynamodb.failNext('*', 1000, 'unreachable');
    const failed = await post(gateway, request);
    expect(failed.status).toBe(500);
    expect(failed.body).toMatchObject({ Type: 'InternalServiceException', ReasonCode: 'INTERNAL_ERROR' });
    expect(JSON.stringify(failed.body)).not.toMatch(/idempotency-|ledger-|arn:/);
    expect(transfers()).toBe(before);

    harness.dynamodb.clearFaults();
    expect((await post(gateway, request)).status).toBe(200);
    expect(transfers()).toBe(before + 1);
  });

  it('never reports an accepted transfer as failed when completing the record fails, and a retry gets the original', async ({ harness, gateway, transfers, queueTransfer }) => {
    const request = queueTransfer();
    const before = transfers();
    // More failures than the SDK's attempts, so the idempotency record stays in progress.
    harness.dynamodb.failNext('UpdateItem', 10, 'internal');
    // A short remaining time makes the in-progress record expire soon, as a timed-out invocation's would.
    const first = await post(gateway, request, {}, 1500);
    expect(first.status).toBe(200);
    harness.dynamodb.clearFaults();

    const tooSoon = await post(harness.newContainer(), request);
    expect(tooSoon.body.ReasonCode).toBe('REQUEST_IN_PROGRESS');
    await sleep(1600);
    const retry = await post(harness.newContainer(), request);
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers['Idempotent-Replayed']).toBe('true');
    expect(transfers()).toBe(before + 1);
  });

  it('delivers the same buffered event twice as one transfer', async ({ harness, gateway, transfers, queueTransfer }) => {
    const event = eventFor('buffered', queueTransfer());
    const before = transfers();
    await expect(gateway(event, lambdaContext())).resolves.toEqual({ batchItemFailures: [] });
    await expect(harness.newContainer()(event, lambdaContext())).resolves.toEqual({ batchItemFailures: [] });
    expect(transfers()).toBe(before + 1);
  });
});

describe('a transfer Connect accepted is never reported as a failure (contract section 6)', () => {
  it("Connect's answer lost on every SDK attempt: a retry gets the original result as a replay, and the ledger holds it, on every door", async ({ harness, acceptedTransfersOf, requestFor, ledgerRecords }) => {
    const connectProxy = await startInterposer(harness.connect.url);
    try {
      await Promise.all(
        VARIANTS.map(async ({ door, withToken }) => {
          const label = `${door} ${withToken ? 'with' : 'without'} a ClientToken`;
          const request = requestFor(withToken);
          const event = eventFor(door, request);
          connectProxy.drop(gatewayRequests.transferContact(request.ContactId));
          const first = await call(harness.newContainer({ AWS_ENDPOINT_URL_CONNECT: connectProxy.url }), door, event);
          expect(first, label).toMatchObject({ ok: false, ...(DOOR_REPORTS[door].reason && { reason: 'UPSTREAM_FAILURE' }) });
          // Every SDK attempt reached Connect, which accepted the first and answered the others from the token.
          expect(harness.connect.calls('TransferContact').filter((c) => c.input.ContactId === request.ContactId).length, label).toBeGreaterThan(1);

          const retry = await call(harness.newContainer(), door, event);
          const [original] = acceptedTransfersOf(request.ContactId!);
          const made = original?.output as { ContactId: string; ContactArn: string };
          expect(retry, label).toMatchObject({ ok: true, ...(DOOR_REPORTS[door].result && made) });
          if (DOOR_REPORTS[door].replay) expect(retry.replayed, label).toBe(true);
          expect(acceptedTransfersOf(request.ContactId!), label).toHaveLength(1);
          expect(await ledgerRecords(request.ContactId!), label).toEqual([expect.objectContaining({ status: 'TRANSFERRED', toContactId: made.ContactId })]);
        }),
      );
    } finally {
      await connectProxy.close();
    }
  });

  it('every completion write failing: the caller hears success; a retry after the in-progress record expires gets the original as a replay and the ledger holds it', async ({ harness, dynamoProxy, proxiedContainer, tables, acceptedTransfersOf, requestFor, ledgerRecords }) => {
    dynamoProxy.fail(gatewayRequests.idempotencyCompletion(tables.idempotency));
    dynamoProxy.fail(gatewayRequests.ledgerRecord(tables.ledger));
    const runs = await Promise.all(
      VARIANTS.map(async ({ door, withToken }) => {
        const request = requestFor(withToken);
        const event = eventFor(door, request);
        // A short remaining time makes the in-progress record expire soon, as a timed-out invocation's would.
        return { door, withToken, request, event, first: await call(proxiedContainer(), door, event, 1000) };
      }),
    );
    // The buffered door gives its record back to the buffer instead: SQS's redelivery is the retry that records it.
    for (const { door, withToken, first } of runs) expect(first, `${door} ${withToken}`).toMatchObject(door === 'buffered' ? { ok: false, reason: RETURNED_TO_BUFFER } : { ok: true });
    dynamoProxy.clear();
    await sleep(1100);
    for (const { door, withToken, request, event, first } of runs) {
      const label = `${door} ${withToken ? 'with' : 'without'} a ClientToken`;
      const retry = await call(harness.newContainer(), door, event);
      const [made] = acceptedTransfersOf(request.ContactId!).map((c) => c.output as { ContactId: string; ContactArn: string });
      if (DOOR_REPORTS[door].result) expect(first, label).toMatchObject(made!);
      expect(retry, label).toMatchObject({ ok: true, ...(DOOR_REPORTS[door].result && made) });
      if (DOOR_REPORTS[door].replay) expect(retry.replayed, label).toBe(true);
      expect(acceptedTransfersOf(request.ContactId!), label).toHaveLength(1);
      expect(await ledgerRecords(request.ContactId!), label).toEqual([expect.objectContaining({ status: 'TRANSFERRED', toContactId: made?.ContactId })]);
    }
  });
});

describe('the buffered door never lets go of a transfer the ledger does not hold (contract section 9)', () => {
  it('returns the record to the buffer when only the ledger record failed; the redelivery records it without a second transfer', async ({ harness, dynamoProxy, proxiedContainer, tables, acceptedTransfersOf, requestFor, ledgerRecords }) => {
    dynamoProxy.fail(gatewayRequests.ledgerRecord(tables.ledger));
    const request = requestFor(true);
    const event = eventFor('buffered', request);
    const first = await call(proxiedContainer(), 'buffered', event);
    expect(first).toEqual({ ok: false, reason: RETURNED_TO_BUFFER });
    expect(await ledgerRecords(request.ContactId!)).toEqual([expect.objectContaining({ status: 'PENDING' })]);
    dynamoProxy.clear();

    const redelivered = await call(harness.newContainer(), 'buffered', event);
    expect(redelivered).toEqual({ ok: true });
    expect(acceptedTransfersOf(request.ContactId!)).toHaveLength(1);
    expect(await ledgerRecords(request.ContactId!)).toEqual([expect.objectContaining({ status: 'TRANSFERRED' })]);
  });
});

describe('the last receive of a transfer Connect may have made (contract sections 6 and 9)', () => {
  it('publishes no Contact Transfer Failed when the record is dead-lettered while its intent is pending', async ({ harness, acceptedTransfersOf, requestFor }) => {
    const connectProxy = await startInterposer(harness.connect.url);
    try {
      const request = requestFor(true);
      const event = eventFor('buffered', request) as { Records: { attributes: Record<string, string>; body: string }[] };
      event.Records[0]!.attributes.ApproximateReceiveCount = '31';
      connectProxy.drop(gatewayRequests.transferContact(request.ContactId));
      const last = await call(harness.newContainer({ AWS_ENDPOINT_URL_CONNECT: connectProxy.url }), 'buffered', event);
      expect(last).toEqual({ ok: false, reason: RETURNED_TO_BUFFER });
      expect(acceptedTransfersOf(request.ContactId!)).toHaveLength(1);
      const eventId = (JSON.parse(event.Records[0]!.body) as { id: string }).id;
      expect(await ledgerItems(harness, `FAILURE#${eventId}`)).toEqual([]);
    } finally {
      await connectProxy.close();
    }
  });
});

describe('rule 14 whatever the ledger does (contract section 7)', () => {
  it('maxTransfers=3 with every ledger record write failing: three transfers reach Connect, then TRANSFER_LIMIT_REACHED', async ({ harness, fx, dynamoProxy, proxiedContainer, tables }) => {
    dynamoProxy.fail(gatewayRequests.ledgerRecord(tables.ledger));
    const limited = proxiedContainer({ MAX_TRANSFERS: '3' });
    const treeId = fx.contact();
    let contactId = treeId;
    const answers: DoorAnswer[] = [];
    for (let n = 1; n <= 6; n += 1) {
      const answer = await call(limited, 'https', httpEvent({ ContactId: contactId, ContactFlowId: fx.flows.inbound }));
      answers.push(answer);
      if (answer.ok) contactId = answer.ContactId!;
    }
    expect(answers.map((answer) => answer.ok)).toEqual([true, true, true, false, false, false]);
    expect(answers[3]?.reason).toBe('TRANSFER_LIMIT_REACHED');
    const transfersInTree = harness.connect.calls('TransferContact').filter((c) => c.status === 200 && [treeId, ...answers.map((a) => a.ContactId)].includes(c.input.ContactId));
    expect(transfersInTree).toHaveLength(3);
  });

  it('maxTransfers=2: a request on the new contact while the previous ledger write is still pending cannot make a third transfer', async ({ fx, dynamoProxy, proxiedContainer, tables, acceptedTransfersOf }) => {
    const limited = proxiedContainer({ MAX_TRANSFERS: '2' });
    const first = await call(limited, 'https', httpEvent({ ContactId: fx.contact(), ContactFlowId: fx.flows.inbound }));
    expect(first.ok).toBe(true);
    const held = dynamoProxy.delay(gatewayRequests.ledgerRecord(tables.ledger));
    const second = call(limited, 'https', httpEvent({ ContactId: first.ContactId!, ContactFlowId: fx.flows.inbound }));
    const write = await held;
    // Connect made the new contact; its ledger record has not reached DynamoDB yet.
    const [made] = acceptedTransfersOf(first.ContactId!);
    const newContactId = (made?.output as { ContactId: string }).ContactId;
    const third = await call(proxiedContainer({ MAX_TRANSFERS: '2' }), 'https', httpEvent({ ContactId: newContactId, ContactFlowId: fx.flows.inbound }));
    write.release();
    expect(await second).toMatchObject({ ok: true, ContactId: newContactId });
    expect(third).toMatchObject({ ok: false, reason: 'TRANSFER_LIMIT_REACHED' });
    expect(acceptedTransfersOf(newContactId)).toHaveLength(0);
  });

  it('refuses (retryably) rather than transfers when the ledger cannot be written before the transfer', async ({ dynamoProxy, proxiedContainer, tables, acceptedTransfersOf, queueTransfer }) => {
    dynamoProxy.fail(gatewayRequests.ledgerReservation(tables.ledger));
    const request = queueTransfer();
    const answer = await call(proxiedContainer(), 'https', httpEvent(request));
    expect(answer).toMatchObject({ ok: false, reason: 'INTERNAL_ERROR' });
    expect(acceptedTransfersOf(request.ContactId)).toHaveLength(0);
  });
});

describe('rule 14 counts transfers, not attempts', () => {
  it('attempts Connect refused stay on record in their own numbers and do not count toward maxTransfers', async ({ harness, fx, proxiedContainer, ledgerRecords, contactItem }) => {
    const limited = proxiedContainer({ MAX_TRANSFERS: '2' });
    const treeId = fx.contact();
    const refusedOnce = async (contactId: string): Promise<DoorAnswer> => {
      harness.connect.failNext('TransferContact', 1, { status: 400, type: 'InvalidRequestException', message: 'refused' });
      const body = { ContactId: contactId, ContactFlowId: fx.flows.inbound, ClientToken: randomUUID() };
      expect(await call(limited, 'https', httpEvent(body))).toMatchObject({ ok: false, reason: 'CONNECT_REJECTED' });
      return call(limited, 'https', httpEvent(body));
    };
    const first = await refusedOnce(treeId);
    const second = await refusedOnce(first.ContactId!);
    const third = await call(limited, 'https', httpEvent({ ContactId: second.ContactId!, ContactFlowId: fx.flows.inbound }));
    expect([first.ok, second.ok, third.reason]).toEqual([true, true, 'TRANSFER_LIMIT_REACHED']);
    expect((await ledgerRecords(treeId)).map(({ transferNumber, status }) => [transferNumber, status])).toEqual([
      [1, 'RELEASED'],
      [2, 'TRANSFERRED'],
      [3, 'RELEASED'],
      [4, 'TRANSFERRED'],
    ]);
    expect(await contactItem(second.ContactId!)).toMatchObject({ treeId, transferNumber: 4, transfersInTree: 2 });
  });

  it('a transfer paced out before it was sent gives its slot back at once, so it counts for nothing while its caller waits', async ({ harness, fx, proxiedContainer, queueTransfer, acceptedTransfersOf, ledgerRecords, contactItem }) => {
    // A pacer of its own (it lives in the idempotency table): one call per 10 s, so a second one within the
    // invocation's time cannot have a slot.
    const pacedTable = `paced-${randomUUID()}`;
    await createGatewayTables(harness.dynamodbClient(), { idempotency: pacedTable, ledger: `${pacedTable}-unused` });
    const paced = proxiedContainer({ IDEMPOTENCY_TABLE_NAME: pacedTable, TRANSFER_RATE_PER_SECOND: '0.1', TRANSFER_BURST: '1', MAX_TRANSFERS: '1' });
    expect(await call(paced, 'https', httpEvent(queueTransfer()))).toMatchObject({ ok: true });

    const treeId = fx.contact();
    const request = { ContactId: treeId, ContactFlowId: fx.flows.inbound, ClientToken: randomUUID() };
    expect(await call(paced, 'https', httpEvent(request), 5000)).toMatchObject({ ok: false, reason: 'THROTTLED' });
    expect(acceptedTransfersOf(treeId)).toHaveLength(0);
    expect(await ledgerRecords(treeId)).toEqual([expect.objectContaining({ transferNumber: 1, status: 'RELEASED', releaseReason: 'THROTTLED' })]);

    // Its retry is the tree's first transfer, in the next number, under a maxTransfers of 1.
    const retry = await call(proxiedContainer({ MAX_TRANSFERS: '1' }), 'https', httpEvent(request));
    expect(retry.ok).toBe(true);
    expect((await ledgerRecords(treeId)).map(({ transferNumber, status }) => [transferNumber, status])).toEqual([
      [1, 'RELEASED'],
      [2, 'TRANSFERRED'],
    ]);
    expect(await contactItem(retry.ContactId!)).toMatchObject({ transferNumber: 2, transfersInTree: 1 });
  });
});

describe('the ledger is append-only and atomic (contract section 7)', () => {
  const reservation = (treeId: string, idempotencyKey: string) => ({
    treeId,
    transferNumber: 1,
    transfersInTree: 1,
    fromContactId: treeId,
    request: { ContactId: treeId, ContactFlowId: 'flow' },
    origin: { door: 'invoke' as const, caller: 'invoke', correlationId: idempotencyKey },
    idempotencyKey,
    payloadHash: 'hash',
    at: new Date(),
  });

  it('a taken slot or a recorded transfer is never overwritten', async ({ ledgerRecords, ledger }) => {
    const treeId = randomUUID();
    const first = reservation(treeId, `token:${randomUUID()}`);
    await expect(ledger().reserve(first)).resolves.toBe('reserved');
    // The same slot from another contact of the tree; the same contact under another key meets its transfer in flight.
    await expect(ledger().reserve({ ...reservation(treeId, `token:${randomUUID()}`), fromContactId: randomUUID() })).resolves.toBe('slot-taken');
    await expect(ledger().reserve({ ...reservation(treeId, `token:${randomUUID()}`), transferNumber: 2 })).resolves.toBe('contact-busy');
    await ledger().complete(first, { ContactId: 'made-1', ContactArn: 'arn:made-1' }, new Date());
    await expect(ledger().complete(first, { ContactId: 'other', ContactArn: 'arn:other' }, new Date())).rejects.toThrow();
    await expect(ledger().release(first, 'late', new Date())).rejects.toThrow();
    expect(await ledgerRecords(treeId)).toEqual([expect.objectContaining({ status: 'TRANSFERRED', toContactId: 'made-1', idempotencyKey: first.idempotencyKey })]);
  });

  it('a reservation Connect refused stays on record as RELEASED, its number is not reused, and the key runs again', async ({ harness, gateway, queueTransfer, ledgerRecords }) => {
    const request = { ...queueTransfer(), ClientToken: randomUUID() };
    harness.connect.failNext('TransferContact', 1, { status: 400, type: 'InvalidRequestException', message: 'refused' });
    expect(await call(gateway, 'https', httpEvent(request))).toMatchObject({ ok: false, reason: 'CONNECT_REJECTED' });
    const retry = await call(gateway, 'https', httpEvent(request));
    expect(retry.ok).toBe(true);
    expect(await ledgerRecords(request.ContactId)).toEqual([
      expect.objectContaining({ transferNumber: 1, status: 'RELEASED', releaseReason: 'InvalidRequestException', clientToken: request.ClientToken }),
      expect.objectContaining({ transferNumber: 2, status: 'TRANSFERRED', toContactId: retry.ContactId }),
    ]);
  });

  it("a transfer's items are written together or not at all", async ({ dynamoProxy, proxiedContainer, tables, queueTransfer, contactItem, ledgerRecords }) => {
    const request = queueTransfer();
    // The record's transaction names the new contact's item: fail exactly its first attempt's worth of tries.
    dynamoProxy.fail(gatewayRequests.ledgerRecord(tables.ledger));
    const answer = await call(proxiedContainer(), 'https', httpEvent(request));
    expect(answer.ok).toBe(true);
    const [slot] = await ledgerRecords(request.ContactId);
    expect(slot).toMatchObject({ status: 'PENDING', transferNumber: 1 });
    expect(slot?.toContactId).toBeUndefined();
    expect(await contactItem(answer.ContactId!)).toBeUndefined();
  });
});

describe('the transfer ledger (contract section 7)', () => {
  it('allows eleven chained transfers and refuses the twelfth without calling Connect', async ({ harness, gateway, fx, transfers, ledgerRecords }) => {
    let contactId = fx.contact();
    const treeId = contactId;
    const before = transfers();
    for (let n = 1; n <= 11; n += 1) {
      const answer = await post(gateway, { ContactId: contactId, ContactFlowId: fx.flows.inbound, QueueId: fx.queues.enabled });
      expect(answer.status, `transfer ${n}`).toBe(200);
      contactId = String(answer.body.ContactId);
    }
    const twelfth = await post(harness.newContainer(), { ContactId: contactId, ContactFlowId: fx.flows.inbound });
    expect(twelfth.status).toBe(402);
    expect(twelfth.body).toMatchObject({ Type: 'ServiceQuotaExceededException', ReasonCode: 'TRANSFER_LIMIT_REACHED' });
    expect(transfers()).toBe(before + 11);
    expect(await ledgerRecords(treeId)).toHaveLength(11);
  });

  it("passes Connect's 402 through for a tree transferred outside the gateway", async ({ harness, gateway, fx }) => {
    const direct = new ConnectClient({ region: 'us-east-1', endpoint: harness.connect.url, credentials: { accessKeyId: 'a', secretAccessKey: 's' } });
    let contactId = fx.contact();
    for (let n = 0; n < 11; n += 1) {
      const output = await direct.send(
        new TransferContactCommand({ InstanceId: harness.connect.instanceId, ContactId: contactId, ContactFlowId: fx.flows.inbound }),
      );
      contactId = output.ContactId ?? '';
    }
    const answer = await post(gateway, { ContactId: contactId, ContactFlowId: fx.flows.inbound });
    expect(answer.status).toBe(402);
    expect(answer.body).toMatchObject({ Type: 'ServiceQuotaExceededException', ReasonCode: 'CONNECT_REJECTED' });
  });

  it('records who asked, through which door, from which contact to which', async ({ gateway, queueTransfer, ledgerRecords }) => {
    const request = queueTransfer();
    const key = randomUUID();
    const answer = await post(gateway, request, { 'Idempotency-Key': key });
    const [record] = await ledgerRecords(request.ContactId);
    expect(record).toMatchObject({
      status: 'TRANSFERRED',
      treeId: request.ContactId,
      transferNumber: 1,
      fromContactId: request.ContactId,
      toContactId: answer.body.ContactId,
      toContactArn: answer.body.ContactArn,
      contactFlowId: request.ContactFlowId,
      queueId: request.QueueId,
      door: 'https',
      requestedBy: 'arn:aws:sts::111122223333:assumed-role/internal-app/app',
      correlationId: expect.any(String),
      idempotencyKey: expect.stringMatching(/^token:/),
      // The caller's own token, so a publisher can match an outcome to what it asked (contract section 9).
      clientToken: key,
      at: expect.any(String),
    });
    const retentionDays = ((record?.expiresAt as number) * 1000 - Date.parse(String(record?.at))) / 86_400_000;
    expect(retentionDays).toBeGreaterThanOrEqual(30);

    const bufferedRequest = queueTransfer();
    const buffered = eventFor('buffered', bufferedRequest) as SQSEvent;
    await gateway(buffered, lambdaContext());
    const { id } = JSON.parse(buffered.Records[0]?.body ?? '{}') as { id: string };
    const [fromEvent] = await ledgerRecords(bufferedRequest.ContactId);
    expect(fromEvent).toMatchObject({ door: 'eventbridge', requestedBy: `internal.contact-transfer/${id}` });
  });
});

