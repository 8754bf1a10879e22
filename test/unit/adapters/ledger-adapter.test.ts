import { BatchGetItemCommand, DynamoDBClient, QueryCommand, TransactionCanceledException, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbLedger } from '../../../lambda/adapters/ledger';
import type { Reservation } from '../../../lambda/ports';

const client = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 's' } });
const dynamodb = mockClient(client);
const ledger = new DynamoDbLedger(client, 'ledger', 30);
const at = new Date('2026-11-23T10:00:00Z');
const reservation: Reservation = {
  treeId: 'c-0',
  transferNumber: 3,
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
  it('reserves the intent and the numbered slot in one transaction that refuses to overwrite', async () => {
    dynamodb.on(TransactWriteItemsCommand).resolves({});
    await expect(ledger.reserve(reservation)).resolves.toBe('reserved');
    const [intent, slot] = dynamodb.commandCalls(TransactWriteItemsCommand)[0]!.args[0].input.TransactItems!;
    expect(intent?.Put).toMatchObject({
      TableName: 'ledger',
      ConditionExpression: 'attribute_not_exists(#pk) OR #status = :released',
      Item: marshall({ pk: 'KEY#token:abc', sk: 'INTENT', status: 'PENDING', payloadHash: 'hash', treeId: 'c-0', transferNumber: 3 }, {}),
    });
    expect(slot?.Put?.ConditionExpression).toBe('attribute_not_exists(#pk)');
    expect(slot?.Put?.Item).toMatchObject(
      marshall({ pk: 'TREE#c-0', sk: 'TRANSFER#0003', status: 'PENDING', fromContactId: 'c-2', contactFlowId: 'f-1', queueId: 'q-1', door: 'https', clientToken: 'caller-token' }),
    );
    expect(slot?.Put?.Item?.userId).toBeUndefined();
  });

  it.each<[string[], string]>([
    [['None', 'ConditionalCheckFailed'], 'slot-taken'],
    [['ConditionalCheckFailed', 'None'], 'key-taken'],
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
    expect(items.map((item) => Object.keys(item)[0])).toEqual(['Update', 'Update', 'Put']);
    expect(items[0]?.Update).toMatchObject({ Key: marshall({ pk: 'TREE#c-0', sk: 'TRANSFER#0003' }), ConditionExpression: '#status = :pending AND idempotencyKey = :key' });
    expect(items[1]?.Update?.ConditionExpression).toBe('#status = :pending AND treeId = :tree AND transferNumber = :number');
    expect(items[2]?.Put).toMatchObject({ Item: marshall({ pk: 'CONTACT#c-3', sk: 'TREE', treeId: 'c-0', transfersInTree: 3 }, {}), ConditionExpression: 'attribute_not_exists(#pk)' });
    expect(items[2]?.Put?.Item?.expiresAt).toEqual({ N: String(at.getTime() / 1000 + 30 * 86_400) });
  });

  it('a completion refused because an earlier attempt recorded the same transfer is done; another transfer is an error', async () => {
    dynamodb.on(TransactWriteItemsCommand).rejects(cancelled('ConditionalCheckFailed', 'ConditionalCheckFailed', 'ConditionalCheckFailed'));
    const intentItem = (toContactId: string) =>
      marshall({ pk: 'KEY#token:abc', sk: 'INTENT', status: 'TRANSFERRED', payloadHash: 'hash', treeId: 'c-0', transferNumber: 3, toContactId, toContactArn: 'arn' });
    dynamodb.on(BatchGetItemCommand).resolvesOnce({ Responses: { ledger: [intentItem('c-3')] } }).resolvesOnce({ Responses: { ledger: [intentItem('c-9')] } });
    await expect(ledger.complete(reservation, result, at)).resolves.toBeUndefined();
    await expect(ledger.complete(reservation, result, at)).rejects.toThrow('Transaction cancelled');
  });

  it('releases by status only: no item is deleted', async () => {
    dynamodb.on(TransactWriteItemsCommand).resolves({});
    await ledger.release(reservation, 'InvalidRequestException', at);
    const items = dynamodb.commandCalls(TransactWriteItemsCommand)[0]!.args[0].input.TransactItems!;
    expect(items.every((item) => item.Update?.UpdateExpression?.startsWith('SET #status = :released'))).toBe(true);
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
          marshall({ pk: 'CONTACT#c-2', sk: 'TREE', treeId: 'c-0', transfersInTree: 2 }),
          marshall({ pk: 'KEY#token:abc', sk: 'INTENT', status: 'PENDING', payloadHash: 'hash', treeId: 'c-0', transferNumber: 3, intendedAt: at.toISOString() }),
        ],
      },
    });
    await expect(ledger.read('c-2', 'token:abc')).resolves.toEqual({
      transfersInTree: { treeId: 'c-0', count: 2 },
      intent: { idempotencyKey: 'token:abc', status: 'PENDING', payloadHash: 'hash', treeId: 'c-0', transferNumber: 3, intendedAt: at },
    });
    expect(dynamodb.commandCalls(BatchGetItemCommand)[0]!.args[0].input.RequestItems?.ledger?.ConsistentRead).toBe(true);
  });
});
