import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
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

describe('PowertoolsIdempotency: a key DynamoDB already holds', () => {
  /** The record a first request with `key` writes, as Powertools writes it: key hash, payload hash, expiries. */
  async function recordWritten(): Promise<Record<string, unknown>> {
    dynamodb.on(UpdateItemCommand).resolves({});
    await store().once(key, async () => transferred);
    const written = dynamodb.commandCalls(PutItemCommand)[0]?.args[0].input.Item;
    dynamodb.reset();
    dynamodb.on(DeleteItemCommand).resolves({});
    return unmarshall(written ?? {});
  }
  /** DynamoDB refusing the lock because the key exists, handing back the stored item (ReturnValuesOnConditionCheckFailure). */
  const alreadyHeld = (item: Record<string, unknown>) =>
    new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {}, Item: marshall(item, { removeUndefinedValues: true }) });
  const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

  it('a completed record is replayed: its stored result, marked replayed, and the work never runs', async () => {
    const record = await recordWritten();
    dynamodb.on(PutItemCommand).rejects(alreadyHeld({ ...record, status: 'COMPLETED', data: transferred, expiration: inAnHour() }));
    let ran = false;
    await expect(store().once(key, async () => ((ran = true), transferred))).resolves.toEqual({ result: transferred, replayed: true });
    expect(ran).toBe(false);
  });

  it('a record still in progress (its invocation has not timed out) is REQUEST_IN_PROGRESS, and the work never runs', async () => {
    const record = await recordWritten();
    dynamodb.on(PutItemCommand).rejects(alreadyHeld({ ...record, status: 'INPROGRESS', expiration: inAnHour(), in_progress_expiration: Date.now() + 60_000 }));
    let ran = false;
    await expect(store().once(key, async () => ((ran = true), transferred))).rejects.toMatchObject({ reason: 'REQUEST_IN_PROGRESS' });
    expect(ran).toBe(false);
  });

  it('the same key with another payload is CLIENT_TOKEN_REUSED, and the stored record is left as it is', async () => {
    const record = await recordWritten();
    dynamodb.on(PutItemCommand).rejects(alreadyHeld({ ...record, status: 'COMPLETED', data: transferred, expiration: inAnHour() }));
    await expect(store().once({ ...key, payloadHash: 'another request' }, async () => transferred)).rejects.toMatchObject({ reason: 'CLIENT_TOKEN_REUSED' });
    expect(dynamodb.commandCalls(DeleteItemCommand)).toHaveLength(0);
    expect(dynamodb.commandCalls(UpdateItemCommand)).toHaveLength(0);
  });

  it('a throttled lock is INTERNAL_ERROR (retryable), not a rejection of the request', async () => {
    dynamodb.on(PutItemCommand).rejects(new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: {} }));
    const error = await store().once(key, async () => transferred).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TransferError);
    expect(error).toMatchObject({ reason: 'INTERNAL_ERROR', retryable: true });
  });
});
