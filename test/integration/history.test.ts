import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import { HISTORY_RESOURCE } from '../../lambda/domain/history';
import { apiGatewayProxyEvent } from '../../local/lambda-events';
import { asHttp, httpEvent, lambdaContext } from '../support/gateway-harness';
import { gatewayTest } from '../support/gateway-test';

const CALLER = 'arn:aws:sts::111122223333:assumed-role/internal-app/app';

const it = gatewayTest()
  /** `GET /contact/transfers/{ContactId}` as API Gateway hands it to the function. */
  .extend('history', { scope: 'file' }, ({ gateway }) => async (contactId: string, query: Record<string, string> = {}) => {
    const event = apiGatewayProxyEvent({
      body: null,
      callerArn: CALLER,
      route: { method: 'GET', resource: HISTORY_RESOURCE, path: `/contact/transfers/${contactId}`, pathParameters: { ContactId: contactId }, query },
    });
    return asHttp(await gateway(event, lambdaContext()));
  })
  /** A tree of `length` transfers made through the gateway; returns every contact of it, first to latest. */
  .extend('chain', { scope: 'file' }, ({ gateway, fx }) => async (length: number): Promise<string[]> => {
    const contacts = [fx.contact()];
    for (let n = 0; n < length; n += 1) {
      const body = { ContactId: contacts.at(-1), ContactFlowId: fx.flows.inbound, QueueId: fx.queues.enabled };
      // Alternate the doors, so the history shows who asked through which.
      const answer = n % 2 === 0 ? asHttp(await gateway(httpEvent(body), lambdaContext())) : { status: 200, body: { ...(await gateway.direct(body, lambdaContext())) } };
      expect(answer.status).toBe(200);
      contacts.push(String(answer.body.ContactId));
    }
    return contacts;
  })
  /** The tree most cases read: three transfers, through both doors. */
  .extend('tree', { scope: 'file' }, ({ chain }) => chain(3));

describe('transfer history (contract section 10)', () => {
  it('lists the tree\'s transfers oldest first, whichever of its contacts is named', async ({ harness, fx, history, tree }) => {
    const expected = tree.slice(1).map((toContactId, index) => ({
      TransferNumber: index + 1,
      FromContactId: tree[index],
      ToContactId: toContactId,
      ContactFlowId: fx.flows.inbound,
      QueueId: fx.queues.enabled,
      Door: index % 2 === 0 ? 'https' : 'invoke',
    }));
    for (const contactId of tree) {
      const answer = await history(contactId);
      expect(answer.status, contactId).toBe(200);
      expect(answer.body.NextToken).toBeUndefined();
      const transfers = answer.body.Transfers as Record<string, unknown>[];
      expect(transfers.map((item) => ({ ...item, RequestedBy: undefined, TransferredAt: undefined, ToContactArn: undefined }))).toEqual(
        expected.map((item) => ({ ...item, RequestedBy: undefined, TransferredAt: undefined, ToContactArn: undefined })),
      );
      expect(transfers[0]).toMatchObject({ RequestedBy: CALLER, ToContactArn: `${harness.connect.instanceArn}/contact/${tree[1]}` });
      expect(transfers[1]!.RequestedBy).toBe('invoke');
      for (const item of transfers) expect(Date.parse(String(item.TransferredAt))).not.toBeNaN();
    }
  });

  it('pages with MaxResults and NextToken, as Connect\'s List APIs do', async ({ history, tree }) => {
    const first = await history(tree[2]!, { MaxResults: '2' });
    expect(first.status).toBe(200);
    expect((first.body.Transfers as unknown[]).map((item) => (item as { TransferNumber: number }).TransferNumber)).toEqual([1, 2]);
    expect(typeof first.body.NextToken).toBe('string');
    const second = await history(tree[2]!, { MaxResults: '2', NextToken: String(first.body.NextToken) });
    expect((second.body.Transfers as unknown[]).map((item) => (item as { TransferNumber: number }).TransferNumber)).toEqual([3]);
    expect(second.body.NextToken).toBeUndefined();
  });

  it('refuses a NextToken of another contact\'s history', async ({ history, chain, tree }) => {
    const other = await chain(2);
    const page = await history(other[0]!, { MaxResults: '1' });
    const answer = await history(tree[0]!, { NextToken: String(page.body.NextToken) });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ Type: 'InvalidRequestException', ReasonCode: 'VALIDATION_FAILED', Fields: [{ Field: 'NextToken' }] });
  });

  it('finds the tree from a contact made outside the gateway, once the gateway has transferred it', async ({ harness, gateway, fx, history }) => {
    const root = fx.contact();
    const outside = harness.connect.addContact({ Id: randomUUID(), Channel: 'TASK', InitiationMethod: 'TRANSFER', InitialContactId: root }).Id;
    const answer = asHttp(await gateway(httpEvent({ ContactId: outside, ContactFlowId: fx.flows.inbound, QueueId: fx.queues.enabled }), lambdaContext()));
    expect(answer.status).toBe(200);
    for (const contactId of [root, outside, String(answer.body.ContactId)]) {
      const page = await history(contactId);
      expect(page.body.Transfers, contactId).toEqual([expect.objectContaining({ TransferNumber: 1, FromContactId: outside, ToContactId: answer.body.ContactId })]);
    }
  });

  it('lists neither a place reserved for a transfer Connect has not confirmed nor one Connect refused', async ({ harness, gateway, fx, history }) => {
    const contactId = fx.contact();
    const request = { ContactId: contactId, ContactFlowId: fx.flows.inbound, QueueId: fx.queues.enabled };
    harness.connect.failNext('TransferContact', 1, { status: 400, type: 'InvalidRequestException', message: 'refused' });
    expect(asHttp(await gateway(httpEvent({ ...request, ClientToken: randomUUID() }), lambdaContext())).status).toBe(400);
    harness.connect.failNext('TransferContact', 3, 'internal');
    expect(asHttp(await gateway(httpEvent(request), lambdaContext())).status).toBe(500);
    expect((await history(contactId)).body).toEqual({ Transfers: [] });

    const retried = asHttp(await gateway(httpEvent(request), lambdaContext(1_000)));
    expect(retried.status).toBe(200);
    expect((await history(contactId)).body.Transfers).toEqual([expect.objectContaining({ FromContactId: contactId, ToContactId: retried.body.ContactId })]);
  });

  it('answers an empty list for a contact the ledger has never seen, and for one not yet transferred', async ({ fx, history }) => {
    for (const contactId of [randomUUID(), fx.contact()]) {
      const answer = await history(contactId);
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ Transfers: [] });
    }
  });

  it.for<[string, string, Record<string, string>, string]>([
    ['a ContactId over 256 characters', 'c'.repeat(257), {}, 'ContactId'],
    ['a ContactId with a lone surrogate', 'c-\ud800', {}, 'ContactId'],
    ['MaxResults 0', 'c-1', { MaxResults: '0' }, 'MaxResults'],
    ['MaxResults 101', 'c-1', { MaxResults: '101' }, 'MaxResults'],
    ['MaxResults 1.5', 'c-1', { MaxResults: '1.5' }, 'MaxResults'],
    ['a NextToken the gateway never issued', 'c-1', { NextToken: 'not-a-token' }, 'NextToken'],
  ])('answers 400 VALIDATION_FAILED for %s', async ([_name, contactId, query, field], { history }) => {
    const answer = await history(contactId, query);
    expect(answer.status).toBe(400);
    expect(answer.headers['x-amzn-ErrorType']).toBe('InvalidRequestException');
    expect(answer.body).toMatchObject({ ReasonCode: 'VALIDATION_FAILED', Fields: [{ Field: field }] });
  });

  it('answers 500 INTERNAL_ERROR without internals when the ledger cannot be read', async ({ harness, history, tree }) => {
    harness.dynamodb.failNext('*', 20, 'internal');
    try {
      const answer = await history(tree[0]!);
      expect(answer.status).toBe(500);
      expect(answer.body).toMatchObject({ Type: 'InternalServiceException', ReasonCode: 'INTERNAL_ERROR' });
      expect(JSON.stringify(answer.body)).not.toMatch(/ledger-|arn:/);
    } finally {
      harness.dynamodb.clearFaults();
    }
  });
});
