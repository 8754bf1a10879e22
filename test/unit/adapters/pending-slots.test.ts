import { BatchGetItemCommand, DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ledgerKeys } from '../../../lambda/adapters/ledger-items';
import { batchGetConsistent } from '../../../lambda/adapters/ledger-table';
import { DynamoDbPendingSlots } from '../../../lambda/adapters/pending-slots';

/** What the sweeper reads: the index lists due slots, the table gives them whole. */
const client = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
const dynamodb = mockClient(client);
beforeEach(() => dynamodb.reset());

const keyOf = (treeId: string) => ledgerKeys.slot(treeId, 1);

function slotItem(treeId: string, lastAttemptAt: string, pending = true) {
  return {
    ...keyOf(treeId),
    ...(pending && { pendingSlot: 'PENDING' }),
    lastAttemptAt,
    fromContactId: `contact-${treeId}`,
    contactFlowId: 'flow-1',
    queueId: 'queue-1',
    door: 'eventbridge',
    requestedBy: 'arn:aws:iam::111122223333:role/caller',
    correlationId: `corr-${treeId}`,
    treeId,
    idempotencyKey: `key-${treeId}`,
    transferNumber: 1,
    transfersInTree: 1,
  };
}
const listed = (item: ReturnType<typeof slotItem>) => marshall({ ...keyOf(item.treeId), pendingSlot: 'PENDING', lastAttemptAt: item.lastAttemptAt });

describe('the pending slots the sweeper reads', () => {
  const oldest = slotItem('t-old', '2026-12-05T10:00:00.000Z');
  const middle = slotItem('t-mid', '2026-12-05T10:05:00.000Z');
  const newest = slotItem('t-new', '2026-12-05T10:09:00.000Z');

  it('reads every listed slot again in one consistent BatchGetItem and answers them longest untried first', async () => {
    dynamodb.on(QueryCommand).resolves({ Items: [oldest, middle, newest].map(listed) });
    // BatchGetItem answers in an order of its own.
    dynamodb.on(BatchGetItemCommand).resolves({ Responses: { ledger: [newest, oldest, middle].map((item) => marshall(item)) } });
    const slots = await new DynamoDbPendingSlots(client, 'ledger').attemptedBefore(new Date('2026-12-05T11:00:00Z'), 100);
    expect(slots.map((slot) => slot.request.ContactId)).toEqual(['contact-t-old', 'contact-t-mid', 'contact-t-new']);
    expect(slots[0]).toMatchObject({ origin: { door: 'eventbridge', correlationId: 'corr-t-old' }, reservation: { treeId: 't-old', transferNumber: 1, idempotencyKey: 'key-t-old' } });
    const batches = dynamodb.commandCalls(BatchGetItemCommand);
    expect(batches).toHaveLength(1);
    expect(batches[0]!.args[0].input.RequestItems?.ledger).toMatchObject({ ConsistentRead: true, Keys: [oldest, middle, newest].map((item) => marshall(keyOf(item.treeId))) });
  });

  it('leaves out a slot settled since the index listed it, or gone', async () => {
    dynamodb.on(QueryCommand).resolves({ Items: [oldest, middle, newest].map(listed) });
    dynamodb.on(BatchGetItemCommand).resolves({ Responses: { ledger: [marshall(slotItem('t-old', oldest.lastAttemptAt, false)), marshall(newest)] } });
    const slots = await new DynamoDbPendingSlots(client, 'ledger').attemptedBefore(new Date('2026-12-05T11:00:00Z'), 100);
    expect(slots.map((slot) => slot.request.ContactId)).toEqual(['contact-t-new']);
  });

  it('asks for a slot listed twice once, as BatchGetItem refuses a repeated key', async () => {
    dynamodb.on(QueryCommand).resolvesOnce({ Items: [listed(oldest)], LastEvaluatedKey: listed(oldest) }).resolvesOnce({ Items: [listed(oldest), listed(newest)] });
    dynamodb.on(BatchGetItemCommand).resolves({ Responses: { ledger: [marshall(oldest), marshall(newest)] } });
    const slots = await new DynamoDbPendingSlots(client, 'ledger').attemptedBefore(new Date('2026-12-05T11:00:00Z'), 100);
    expect(slots.map((slot) => slot.request.ContactId)).toEqual(['contact-t-old', 'contact-t-new']);
    expect(dynamodb.commandCalls(BatchGetItemCommand)[0]!.args[0].input.RequestItems?.ledger?.Keys).toEqual([oldest, newest].map((item) => marshall(keyOf(item.treeId))));
  });

  it('reads nothing more when nothing is due', async () => {
    dynamodb.on(QueryCommand).resolves({ Items: [] });
    expect(await new DynamoDbPendingSlots(client, 'ledger').attemptedBefore(new Date(), 100)).toEqual([]);
    expect(dynamodb.commandCalls(BatchGetItemCommand)).toHaveLength(0);
  });
});

describe('a consistent batch read', () => {
  it('asks for at most 100 keys a request, as BatchGetItem allows, and keeps every item', async () => {
    const keys = Array.from({ length: 150 }, (_, i) => marshall({ pk: `p-${i}`, sk: 's' }));
    dynamodb.on(BatchGetItemCommand).callsFake((input: { RequestItems: Record<string, { Keys: unknown[] }> }) => ({ Responses: { ledger: input.RequestItems.ledger!.Keys } }));
    const items = await batchGetConsistent(client, 'ledger', keys);
    expect(dynamodb.commandCalls(BatchGetItemCommand).map((call) => call.args[0].input.RequestItems?.ledger?.Keys?.length)).toEqual([100, 50]);
    expect(items).toHaveLength(150);
  });
});
