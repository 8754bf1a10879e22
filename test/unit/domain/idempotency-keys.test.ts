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
