import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { DynamoDbLedger } from '../../../lambda/adapters/ledger';
import type { Reservation } from '../../../lambda/ports';

const client = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 's' } });
const dynamodb = mockClient(client);
const ledger = new DynamoDbLedger(client, 'ledger', 30);
const at = new Date('2026-11-23T10:00:00Z');
const reservation: Reservation = {
  treeId: 'c-0',
  transferNumber: 3,
  // Slot 3, but one earlier attempt in the tree was released.
  transfersInTree: 2,
  fromContactId: 'c-2',
  request: { ContactId: 'c-2', ContactFlowId: 'f-1', QueueId: 'q-1', ClientToken: 'caller-token' },
  origin: { door: 'https', caller: 'arn:aws:sts::111122223333:assumed-role/app/x', correlationId: 'req-1' },
  idempotencyKey: 'token:abc',
  payloadHash: 'hash',
  at,
};
const result = { ContactId: 'c-3', ContactArn: 'arn:aws:connect:us-east-1:111122223333:instance/i/contact/c-3' };
const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: codes.map((Code) => ({ Code })) });

beforeEach(() => dynamodb.reset());

describe('DynamoDbLedger', () => {
  it('reserves the intent, the contact\'s in-flight mark and the numbered slot in one transaction that refuses to overwrite', async () => {
    dynamodb.on(TransactWriteItemsCommand).resolves({});
    await expect(ledger.reserve(reservation)).resolves.toBe('reserved');
    const [intent, contact, slot] = dynamodb.commandCalls(TransactWriteItemsCommand)[0]!.args[0].input.TransactItems!;
    expect(intent?.Put).toMatchObject({
      TableName: 'ledger',
      // A released attempt or a skip whose answer has expired gives its key back; a live one keeps it.
      ConditionExpression: 'attribute_not_exists(#pk) OR #status = :released OR (#status = :skipped AND answeredUntil < :now)',
      Item: marshall({ pk: 'KEY#token:abc', sk: 'INTENT', status: 'PENDING', payloadHash: 'hash', treeId: 'c-0', transferNumber: 3, transfersInTree: 2 }, {}),
    });
    // One transfer of a contact in flight at a time: the mark is set only where no other key holds it.
    expect(contact?.Update).toMatchObject({
      Key: marshall({ pk: 'CONTACT#c-2', sk: 'TREE' }),
      UpdateExpression: expect.stringMatching(/^SET #inFlight = :key, treeId = if_not_exists/),
      ConditionExpression: 'attribute_not_exists(#inFlight)',
      ExpressionAttributeNames: expect.objectContaining({ '#inFlight': 'transferInFlight' }),
      ExpressionAttributeValues: expect.objectContaining({ ':key': { S: 'token:abc' }, ':tree': { S: 'c-0' } }),
    });
    expect(slot?.Put?.ConditionExpression).toBe('attribute_not_exists(#pk)');
    expect(slot?.Put?.Item).toMatchObject(
      marshall({ pk: 'TREE#c-0', sk: 'TRANSFER#0003', status: 'PENDING', fromContactId: 'c-2', contactFlowId: 'f-1', queueId: 'q-1', door: 'https', clientToken: 'caller-token' }),
    );
    expect(slot?.Put?.Item?.userId).toBeUndefined();
  });

  it.each<[string[], string]>([
    [['None', 'None', 'ConditionalCheckFailed'], 'slot-taken'],
    [['ConditionalCheckFailed', 'None', 'None'], 'key-taken'],
    [['ConditionalCheckFailed', 'ConditionalCheckFailed', 'None'], 'key-taken'],
    [['None', 'ConditionalCheckFailed', 'None'], 'contact-busy'],
    [['None', 'ConditionalCheckFailed', 'ConditionalCheckFailed'], 'contact-busy'],
    [['None', 'TransactionConflict', 'None'], 'contact-busy'],
  ])('a cancelled reservation (%j) is %s, not an error', async (codes, outcome) => {
    dynamodb.on(TransactWriteItemsCommand).rejects(cancelled(...codes));
    await expect(ledger.reserve(reservation)).resolves.toBe(outcome);
  });

  it('any other failure to reserve is an error (the use case fails closed)', async () => {
    dynamodb.on(TransactWriteItemsCommand).rejects(new Error('unreachable'));
    await expect(ledger.reserve(reservation)).rejects.toThrow('unreachable');
  });

  it('completes the slot and the intent PENDING -> TRANSFERRED and creates the contact pointer, all in one transaction', async () => {
    dynamodb.on(TransactWriteItemsCommand).resolves({});
    await ledger.complete(reservation, result, at);
    const items = dynamodb.commandCalls(TransactWriteItemsCommand)[0]!.args[0].input.TransactItems!;
    expect(items.map((item) => Object.keys(item)[0])).toEqual(['Update', 'Update', 'Update', 'Update']);
    expect(items[0]?.Update).toMatchObject({ Key: marshall({ pk: 'TREE#c-0', sk: 'TRANSFER#0003' }), ConditionExpression: '#status = :pending AND idempotencyKey = :key' });
    expect(items[1]?.Update?.ConditionExpression).toBe('#status = :pending AND treeId = :tree AND transferNumber = :number');
    // The moved contact has ended: its in-flight mark goes, whoever holds it, so that nothing can keep the record out.
    expect(items[2]?.Update).toMatchObject({ Key: marshall({ pk: 'CONTACT#c-2', sk: 'TREE' }), UpdateExpression: expect.stringMatching(/ REMOVE #inFlight$/) });
    expect(items[2]?.Update?.ConditionExpression).toBeUndefined();
    // The new contact records the count for rule 14 and the slot number after which the next slot follows, apart;
    // added to an item a request on the new contact made first, never over another transfer's count.
    expect(items[3]?.Update).toMatchObject({
      Key: marshall({ pk: 'CONTACT#c-3', sk: 'TREE' }),
      ConditionExpression: 'attribute_not_exists(transfersInTree)',
      ExpressionAttributeValues: { ':tree': { S: 'c-0' }, ':number': { N: '3' }, ':count': { N: '2' }, ':expires': { N: String(at.getTime() / 1000 + 30 * 86_400) } },
    });
  });

  it('a completion refused because an earlier attempt recorded the same transfer is done; another transfer is an error', async () => {
    dynamodb.on(TransactWriteItemsCommand).rejects(cancelled('ConditionalCheckFailed', 'ConditionalCheckFailed', 'None', 'ConditionalCheckFailed'));
    const intentItem = (toContactId: string) =>
      marshall({ pk: 'KEY#token:abc', sk: 'INTENT', status: 'TRANSFERRED', payloadHash: 'hash', treeId: 'c-0', transferNumber: 3, fromContactId: 'c-2', toContactId, toContactArn: 'arn' });
    dynamodb.on(BatchGetItemCommand).resolvesOnce({ Responses: { ledger: [intentItem('c-3')] } }).resolvesOnce({ Responses: { ledger: [intentItem('c-9')] } });
    await expect(ledger.complete(reservation, result, at)).resolves.toBeUndefined();
    await expect(ledger.complete(reservation, result, at)).rejects.toThrow('Transaction cancelled');
  });

  it('reserves a slot into the sweeper\'s index, its latest attempt being the reservation', async () => {
    dynamodb.on(TransactWriteItemsCommand).resolves({});
    await ledger.reserve(reservation);
    const slot = dynamodb.commandCalls(TransactWriteItemsCommand)[0]!.args[0].input.TransactItems![2];
    expect(slot?.Put?.Item).toMatchObject(marshall({ pendingSlot: 'PENDING', reservedAt: at.toISOString(), lastAttemptAt: at.toISOString() }));
  });

  it('stamps a pending slot with a new attempt (back in the index), only while it is PENDING under the same key', async () => {
    dynamodb.on(UpdateItemCommand).resolvesOnce({}).rejectsOnce(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    const later = new Date(at.getTime() + 120_000);
    await expect(ledger.attempting(reservation, later)).resolves.toBe(true);
    const input = dynamodb.commandCalls(UpdateItemCommand)[0]!.args[0].input;
    expect(input).toMatchObject({
      Key: marshall({ pk: 'TREE#c-0', sk: 'TRANSFER#0003' }),
      UpdateExpression: 'SET #attempt = :at, #pendingSlot = :due',
      ConditionExpression: '#status = :pending AND idempotencyKey = :key',
      ExpressionAttributeNames: { '#attempt': 'lastAttemptAt', '#pendingSlot': 'pendingSlot', '#status': 'status' },
      ExpressionAttributeValues: marshall({ ':at': later.toISOString(), ':due': 'PENDING', ':pending': 'PENDING', ':key': 'token:abc' }),
    });
    // Settled meanwhile: not an error, an answer.
    await expect(ledger.attempting(reservation, later)).resolves.toBe(false);
    dynamodb.on(UpdateItemCommand).rejects(new Error('unreachable'));
    await expect(ledger.attempting(reservation, later)).rejects.toThrow('unreachable');
  });

  it('sets a slot aside by moving it to the index\'s UNCONFIRMED partition, still PENDING', async () => {
    dynamodb.on(UpdateItemCommand).resolves({});
    await ledger.setAside(reservation);
    const input = dynamodb.commandCalls(UpdateItemCommand)[0]!.args[0].input;
    expect(input.UpdateExpression).toBe('SET #pendingSlot = :unconfirmed');
    expect(input.ConditionExpression).toBe('#status = :pending AND idempotencyKey = :key');
    expect(input.ExpressionAttributeValues).toMatchObject(marshall({ ':unconfirmed': 'UNCONFIRMED' }));
  });

  it('releases by status only: no item is deleted; the contact\'s in-flight mark goes only if it is this reservation\'s', async () => {
    dynamodb.on(TransactWriteItemsCommand).resolves({});
    await ledger.release(reservation, 'InvalidRequestException', at);
    const items = dynamodb.commandCalls(TransactWriteItemsCommand)[0]!.args[0].input.TransactItems!;
    expect(items.slice(0, 2).every((item) => item.Update?.UpdateExpression?.startsWith('SET #status = :released'))).toBe(true);
    expect(items[2]?.Update).toMatchObject({
      Key: marshall({ pk: 'CONTACT#c-2', sk: 'TREE' }),
      UpdateExpression: expect.stringMatching(/ REMOVE #inFlight$/),
      ConditionExpression: 'attribute_not_exists(#inFlight) OR #inFlight = :key',
    });
    expect(items.some((item) => item.Delete)).toBe(false);
  });

  it('tallies a tree: pending and transferred slots count, released ones do not, and the next number follows the highest', async () => {
    dynamodb.on(QueryCommand).resolves({
      Items: [
        marshall({ status: 'TRANSFERRED', transferNumber: 1 }),
        marshall({ status: 'RELEASED', transferNumber: 2 }),
        marshall({ status: 'PENDING', transferNumber: 3 }),
      ],
    });
    await expect(ledger.tally('c-0')).resolves.toEqual({ counted: 2, lastNumber: 3 });
    expect(dynamodb.commandCalls(QueryCommand)[0]!.args[0].input).toMatchObject({ ConsistentRead: true });
  });

  it('reads the contact pointer and the intent in one consistent BatchGetItem', async () => {
    dynamodb.on(BatchGetItemCommand).resolves({
      Responses: {
        ledger: [
          marshall({ pk: 'CONTACT#c-2', sk: 'TREE', treeId: 'c-0', transferNumber: 4, transfersInTree: 2 }),
          marshall({ pk: 'KEY#token:abc', sk: 'INTENT', status: 'PENDING', payloadHash: 'hash', treeId: 'c-0', transferNumber: 5, transfersInTree: 3, fromContactId: 'c-2', intendedAt: at.toISOString() }),
        ],
      },
    });
    await expect(ledger.read('c-2', 'token:abc')).resolves.toEqual({
      transfersInTree: { treeId: 'c-0', count: 2, lastNumber: 4 },
      intent: { idempotencyKey: 'token:abc', status: 'PENDING', payloadHash: 'hash', treeId: 'c-0', transferNumber: 5, transfersInTree: 3, fromContactId: 'c-2', intendedAt: at },
    });
    expect(dynamodb.commandCalls(BatchGetItemCommand)[0]!.args[0].input.RequestItems?.ledger?.ConsistentRead).toBe(true);
  });

  it('reads items written before the count was kept apart as their slot number: an upper bound, so rule 14 fails closed', async () => {
    dynamodb.on(BatchGetItemCommand).resolves({
      Responses: {
        ledger: [
          marshall({ pk: 'CONTACT#c-2', sk: 'TREE', treeId: 'c-0', transfersInTree: 2 }),
          marshall({ pk: 'KEY#token:abc', sk: 'INTENT', status: 'PENDING', payloadHash: 'hash', treeId: 'c-0', transferNumber: 3, fromContactId: 'c-2', intendedAt: at.toISOString() }),
        ],
      },
    });
    await expect(ledger.read('c-2', 'token:abc')).resolves.toMatchObject({
      transfersInTree: { treeId: 'c-0', count: 2, lastNumber: 2 },
      intent: { transferNumber: 3, transfersInTree: 3 },
    });
  });
});

describe('DynamoDbLedger under DynamoDB load and failure', () => {
  const contactItem = marshall({ pk: 'CONTACT#c-2', sk: 'TREE', treeId: 'c-0', transfersInTree: 2 });
  const intentItem = marshall({ pk: 'KEY#token:abc', sk: 'INTENT', status: 'PENDING', payloadHash: 'hash', treeId: 'c-0', transferNumber: 3, fromContactId: 'c-2', intendedAt: at.toISOString() });
  const intentKey = marshall({ pk: 'KEY#token:abc', sk: 'INTENT' });

  // No real waiting between retries: the back-off's jitter is drawn from Math.random.
  beforeEach(() => {
    const random = vi.spyOn(Math, 'random').mockReturnValue(0);
    return () => random.mockRestore();
  });

  it('retries keys BatchGetItem left unprocessed, asking again for those only, and reads what the retry returns', async () => {
    dynamodb
      .on(BatchGetItemCommand)
      .resolvesOnce({ Responses: { ledger: [contactItem] }, UnprocessedKeys: { ledger: { Keys: [intentKey], ConsistentRead: true } } })
      .resolvesOnce({ Responses: { ledger: [intentItem] } });
    const view = await ledger.read('c-2', 'token:abc');
    expect(view).toMatchObject({ transfersInTree: { treeId: 'c-0', count: 2 }, intent: { status: 'PENDING', transferNumber: 3 } });
    const calls = dynamodb.commandCalls(BatchGetItemCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.args[0].input.RequestItems?.ledger).toEqual({ Keys: [intentKey], ConsistentRead: true });
  });

  it('keys that stay unprocessed fail the read after the retries, instead of reading as absent (fail closed)', async () => {
    dynamodb.on(BatchGetItemCommand).resolves({ Responses: { ledger: [] }, UnprocessedKeys: { ledger: { Keys: [intentKey] } } });
    await expect(ledger.read('c-2', 'token:abc')).rejects.toThrow('unprocessed');
    expect(dynamodb.commandCalls(BatchGetItemCommand)).toHaveLength(5);
  });

  it('tallies a tree over every page of the Query, continuing from where each page stopped', async () => {
    const lastKey = marshall({ pk: 'TREE#c-0', sk: 'TRANSFER#0002' });
    dynamodb
      .on(QueryCommand)
      .resolvesOnce({ Items: [marshall({ status: 'TRANSFERRED', transferNumber: 1 }), marshall({ status: 'TRANSFERRED', transferNumber: 2 })], LastEvaluatedKey: lastKey })
      .resolvesOnce({ Items: [marshall({ status: 'RELEASED', transferNumber: 3 }), marshall({ status: 'PENDING', transferNumber: 4 })] });
    await expect(ledger.tally('c-0')).resolves.toEqual({ counted: 3, lastNumber: 4 });
    const calls = dynamodb.commandCalls(QueryCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0]!.args[0].input.ExclusiveStartKey).toBeUndefined();
    expect(calls[1]!.args[0].input.ExclusiveStartKey).toEqual(lastKey);
  });

  it.each([
    ['a cancellation for a conflicting transaction', () => cancelled('TransactionConflict', 'None')],
    ['a throughput error', () => new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: {} })],
  ])('reserving: %s is an error, never a taken slot or key', async (_name, error) => {
    dynamodb.on(TransactWriteItemsCommand).rejects(error());
    await expect(ledger.reserve(reservation)).rejects.toBeInstanceOf(Error);
  });

  it('completing: a failure that is not a refused condition is passed on without reading the intent', async () => {
    dynamodb.on(TransactWriteItemsCommand).rejects(cancelled('TransactionConflict', 'None', 'None'));
    await expect(ledger.complete(reservation, result, at)).rejects.toThrow('Transaction cancelled');
    expect(dynamodb.commandCalls(BatchGetItemCommand)).toHaveLength(0);
  });

  it('completing: a refused condition whose intent is still pending is an error (the record was not made)', async () => {
    dynamodb.on(TransactWriteItemsCommand).rejects(cancelled('ConditionalCheckFailed', 'None', 'None', 'None'));
    dynamodb.on(BatchGetItemCommand).resolves({ Responses: { ledger: [intentItem] } });
    await expect(ledger.complete(reservation, result, at)).rejects.toThrow('Transaction cancelled');
  });

  it('releasing: a refused condition is an error, since only a pending reservation can be released', async () => {
    dynamodb.on(TransactWriteItemsCommand).rejects(cancelled('ConditionalCheckFailed', 'None'));
    await expect(ledger.release(reservation, 'InvalidRequestException', at)).rejects.toThrow('Transaction cancelled');
  });
});
