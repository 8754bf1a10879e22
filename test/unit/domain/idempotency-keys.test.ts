import { describe, expect, it } from 'vitest';
import { idempotencyKeysOf } from '../../../lambda/domain/idempotency-keys';
import type { TransferRequest } from '../../../lambda/domain/request';

const INSTANCE = '11111111-1111-4111-8111-111111111111';
const OTHER_INSTANCE = '22222222-2222-4222-8222-222222222222';
const request: TransferRequest = { ContactId: 'c-1', ContactFlowId: 'f-1', QueueId: 'q-1' };

describe('idempotencyKeysOf with a ClientToken', () => {
  const withToken = { ...request, ClientToken: 'token-1' };

  it('the key depends on the token only: another payload with the same token has the same key and another payloadHash', () => {
    const first = idempotencyKeysOf(withToken, INSTANCE);
    const other = idempotencyKeysOf({ ContactId: 'c-9', ContactFlowId: 'f-9', UserId: 'u-9', ClientToken: 'token-1' }, INSTANCE);
    expect(other.idempotencyKey).toBe(first.idempotencyKey);
    expect(other.payloadHash).not.toBe(first.payloadHash);
  });

  it('another token is another key', () => {
    expect(idempotencyKeysOf({ ...withToken, ClientToken: 'token-2' }, INSTANCE).idempotencyKey).not.toBe(
      idempotencyKeysOf(withToken, INSTANCE).idempotencyKey,
    );
  });

  it('the payloadHash is the same with or without the token, so only the payload decides CLIENT_TOKEN_REUSED', () => {
    expect(idempotencyKeysOf(withToken, INSTANCE).payloadHash).toBe(idempotencyKeysOf(request, INSTANCE).payloadHash);
  });

  it('a token never collides with a token-less request of the same payload', () => {
    expect(idempotencyKeysOf(withToken, INSTANCE).idempotencyKey).not.toBe(idempotencyKeysOf(request, INSTANCE).idempotencyKey);
  });

  it('the key does not carry the token itself', () => {
    expect(idempotencyKeysOf({ ...request, ClientToken: 'secret-looking-token' }, INSTANCE).idempotencyKey).not.toContain('secret-looking-token');
  });
});

describe('idempotencyKeysOf without a ClientToken: the intent is the key', () => {
  it('the same intent gives the same key', () => {
    expect(idempotencyKeysOf({ ...request }, INSTANCE)).toEqual(idempotencyKeysOf(request, INSTANCE));
  });

  it.each<[string, TransferRequest]>([
    ['ContactId', { ...request, ContactId: 'c-2' }],
    ['ContactFlowId', { ...request, ContactFlowId: 'f-2' }],
    ['QueueId', { ...request, QueueId: 'q-2' }],
    ['QueueId removed', { ContactId: 'c-1', ContactFlowId: 'f-1' }],
    ['QueueId swapped for a UserId of the same id', { ContactId: 'c-1', ContactFlowId: 'f-1', UserId: 'q-1' }],
    ['values shifted between members', { ContactId: 'c-1f-1', ContactFlowId: '', QueueId: 'q-1' }],
  ])('a change of %s gives another key', (_change, changed) => {
    expect(idempotencyKeysOf(changed, INSTANCE).idempotencyKey).not.toBe(idempotencyKeysOf(request, INSTANCE).idempotencyKey);
  });
});

describe('the ClientToken sent to Connect', () => {
  it('is deterministic per key and instance, so Lambda retries reuse it', () => {
    expect(idempotencyKeysOf(request, INSTANCE).connectClientToken).toBe(idempotencyKeysOf({ ...request }, INSTANCE).connectClientToken);
    const token = { ...request, ClientToken: 't' };
    expect(idempotencyKeysOf(token, INSTANCE).connectClientToken).toBe(
      idempotencyKeysOf({ ContactId: 'other', ContactFlowId: 'other', ClientToken: 't' }, INSTANCE).connectClientToken,
    );
  });

  it('differs between instances and between keys', () => {
    expect(idempotencyKeysOf(request, OTHER_INSTANCE).connectClientToken).not.toBe(idempotencyKeysOf(request, INSTANCE).connectClientToken);
    expect(idempotencyKeysOf({ ...request, ContactId: 'c-2' }, INSTANCE).connectClientToken).not.toBe(
      idempotencyKeysOf(request, INSTANCE).connectClientToken,
    );
  });

  it.each([1, 64, 500])('fits Connect\'s 500-character ClientToken limit for a caller token of %i characters', (length) => {
    const { connectClientToken } = idempotencyKeysOf({ ...request, ClientToken: 'x'.repeat(length) }, INSTANCE);
    expect(connectClientToken.length).toBeGreaterThan(0);
    expect(connectClientToken.length).toBeLessThanOrEqual(500);
  });
});

describe('idempotencyKeysOf for a transfer to an agent', () => {
  const toAgent: TransferRequest = { ContactId: 'c-1', ContactFlowId: 'f-1', UserId: 'u-1' };

  it('another agent is another payload: a token reused for it is told apart, and token-less requests get their own keys', () => {
    const other = { ...toAgent, UserId: 'u-2' };
    expect(idempotencyKeysOf({ ...other, ClientToken: 't' }, INSTANCE).payloadHash).not.toBe(idempotencyKeysOf({ ...toAgent, ClientToken: 't' }, INSTANCE).payloadHash);
    expect(idempotencyKeysOf(other, INSTANCE).idempotencyKey).not.toBe(idempotencyKeysOf(toAgent, INSTANCE).idempotencyKey);
  });
});

/**
 * The keys a deployed gateway has already written to its idempotency table: a request retried across a deploy must
 * find its record, so these values are fixed, not recomputed.
 */
describe('idempotencyKeysOf keeps the keys already stored', () => {
  it.each<[string, TransferRequest, string]>([
    ['a request without Note and Conditions', request, 'a565a532820497b6526e06d9bbba0978a06b1822ea6bdc506f306bd01ce2ea7e'],
    ['a request with a Note only', { ...request, Note: 'n' }, '791a687262746a065ab6570f613ea58b6b3614ad3102575ea52f99a02f786876'],
    ['a request with Conditions only', { ...request, Conditions: { NotWithAgent: true } }, 'b85abdce4616f0f7a6895e2b0170e189cf8aaf383013e18a9d4791ddd7cca438'],
    ['a request with a Note and Conditions', { ...request, Note: 'n', Conditions: { InQueue: 'q-1', QueuedForSeconds: 60 } }, '73ae07744532687c24284dfd2866b308943ff38de08ed51ca18d15eba48efa6d'],
  ])('%s', (_case, stored, payloadHash) => {
    expect(idempotencyKeysOf(stored, INSTANCE)).toEqual({
      idempotencyKey: `intent:${payloadHash}`,
      payloadHash,
      connectClientToken: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it('the ClientToken sent to Connect for a stored request is fixed too', () => {
    expect(idempotencyKeysOf({ ...request, Note: 'n' }, INSTANCE).connectClientToken).toBe('29ddf350f9de47dae457b8b71fc614ea8f04da4b877663b9080480e2fd68b80c');
  });
});

describe('idempotencyKeysOf: the Note and the Conditions are part of the intent', () => {
  const keyOf = (changed: TransferRequest): string => idempotencyKeysOf(changed, INSTANCE).idempotencyKey;

  it.each<[string, TransferRequest, TransferRequest]>([
    ['a Note and none', { ...request, Note: 'n' }, request],
    ['two Notes', { ...request, Note: 'n' }, { ...request, Note: 'm' }],
    ['Conditions and none', { ...request, Conditions: { NotWithAgent: true } }, request],
    ['two InQueue conditions', { ...request, Conditions: { InQueue: 'q-1' } }, { ...request, Conditions: { InQueue: 'q-2' } }],
    ['two waits', { ...request, Conditions: { QueuedForSeconds: 60 } }, { ...request, Conditions: { QueuedForSeconds: 61 } }],
    ['another condition', { ...request, Conditions: { NotWithAgent: true } }, { ...request, Conditions: { QueuedForSeconds: 1 } }],
    ['the same Conditions with and without a Note', { ...request, Note: 'n', Conditions: { NotWithAgent: true } }, { ...request, Conditions: { NotWithAgent: true } }],
  ])('token-less requests that differ in %s get different keys', (_case, one, other) => {
    expect(keyOf(one)).not.toBe(keyOf(other));
  });

  it('the same conditions in another member order are the same intent', () => {
    expect(keyOf({ ...request, Conditions: { QueuedForSeconds: 60, NotWithAgent: true, InQueue: 'q-1' } })).toBe(
      keyOf({ ...request, Conditions: { InQueue: 'q-1', NotWithAgent: true, QueuedForSeconds: 60 } }),
    );
  });

  it('a ClientToken reused with other Conditions is told apart by its payloadHash', () => {
    const withToken = { ...request, ClientToken: 't' };
    expect(idempotencyKeysOf({ ...withToken, Conditions: { QueuedForSeconds: 5 } }, INSTANCE).payloadHash).not.toBe(
      idempotencyKeysOf({ ...withToken, Conditions: { QueuedForSeconds: 6 } }, INSTANCE).payloadHash,
    );
  });
});
