import { DeleteItemCommand, DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { PowertoolsIdempotency } from '../../../lambda/adapters/idempotency';
import { TransferError } from '../../../lambda/domain/errors';
import { lambdaContext } from '../../../local/lambda-events';

const client = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 's' } });
const dynamodb = mockClient(client);
const transferred = { ContactId: 'c-new', ContactArn: 'arn:aws:connect:us-east-1:111122223333:instance/i/contact/c-new' };
const key = { idempotencyKey: 'token:abc', payloadHash: 'hash' };

function store(): PowertoolsIdempotency {
  const idempotency = new PowertoolsIdempotency(client, 'idempotency', 3600);
  idempotency.registerLambdaContext(lambdaContext(10_000));
  return idempotency;
}

beforeEach(() => {
  dynamodb.reset();
  dynamodb.on(PutItemCommand).resolves({});
  dynamodb.on(DeleteItemCommand).resolves({});
});

describe('PowertoolsIdempotency', () => {
  it('a completed record: the result, not replayed, nothing to report', async () => {
    dynamodb.on(UpdateItemCommand).resolves({});
    await expect(store().once(key, async () => transferred)).resolves.toEqual({ result: transferred, replayed: false });
  });

  it('work that succeeded but could not be stored still answers its result, and says the store failed', async () => {
    dynamodb.on(UpdateItemCommand).rejects(new Error('store unreachable'));
    const outcome = await store().once(key, async () => transferred);
    expect(outcome).toMatchObject({ result: transferred, replayed: false });
    expect(outcome.storeFailure).toBeDefined();
  });

  it('a rejection is passed on as it is, and the key is released', async () => {
    await expect(store().once(key, async () => Promise.reject(TransferError.of('CONTACT_NOT_ACTIVE')))).rejects.toMatchObject({ reason: 'CONTACT_NOT_ACTIVE' });
    expect(dynamodb.commandCalls(DeleteItemCommand)).toHaveLength(1);
  });

  it('the store unreachable before the work: INTERNAL_ERROR, the work never runs (fail closed)', async () => {
    dynamodb.on(PutItemCommand).rejects(new Error('store unreachable'));
    let ran = false;
    await expect(store().once(key, async () => ((ran = true), transferred))).rejects.toMatchObject({ reason: 'INTERNAL_ERROR' });
    expect(ran).toBe(false);
  });
});
