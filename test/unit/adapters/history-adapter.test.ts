import { DynamoDBClient, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbTransferHistory } from '../../../lambda/adapters/history';
import { TransferError } from '../../../lambda/domain/errors';

const client = new DynamoDBClient({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } });
const dynamodb = mockClient(client);
const history = new DynamoDbTransferHistory(client, 'ledger');

const record = (transferNumber: number, extra: Record<string, unknown> = {}) =>
  marshall({
    pk: 'TREE#first',
    sk: `TRANSFER#${String(transferNumber).padStart(4, '0')}#c-${transferNumber}`,
    transfersInTree: transferNumber,
    fromContactId: `c-${transferNumber - 1}`,
    toContactId: `c-${transferNumber}`,
    toContactArn: `arn:aws:connect:eu-west-1:123456789012:instance/i/contact/c-${transferNumber}`,
    contactFlowId: 'f-1',
    userId: 'u-1',
    door: 'invoke',
    requestedBy: 'invoke',
    at: '2026-11-23T10:00:00.000Z',
    ...extra,
  });

beforeEach(() => dynamodb.reset());

describe('DynamoDbTransferHistory', () => {
  it('finds the tree through the CONTACT# item of a contact the gateway made, and queries only that tree\'s transfers in order', async () => {
    dynamodb.on(GetItemCommand).resolves({ Item: marshall({ pk: 'CONTACT#c-2', sk: 'TREE', treeId: 'first' }) });
    dynamodb.on(QueryCommand).resolves({ Items: [record(1), record(2)] });
    const page = await history.list({ ContactId: 'c-2', maxResults: 100 });

    expect(dynamodb.commandCalls(GetItemCommand)[0]!.args[0].input).toMatchObject({ TableName: 'ledger', Key: marshall({ pk: 'CONTACT#c-2', sk: 'TREE' }), ConsistentRead: true });
    const query = dynamodb.commandCalls(QueryCommand)[0]!.args[0].input;
    expect(query).toMatchObject({ TableName: 'ledger', Limit: 100, ConsistentRead: true, KeyConditionExpression: '#pk = :tree AND begins_with(#sk, :transfer)' });
    expect(query.ExpressionAttributeValues?.[':tree']).toEqual({ S: 'TREE#first' });
    expect(query.ScanIndexForward).not.toBe(false);
    expect(page).toEqual({
      Transfers: [1, 2].map((n) => ({
        TransferNumber: n,
        FromContactId: `c-${n - 1}`,
        ToContactId: `c-${n}`,
        ToContactArn: `arn:aws:connect:eu-west-1:123456789012:instance/i/contact/c-${n}`,
        ContactFlowId: 'f-1',
        UserId: 'u-1',
        RequestedBy: 'invoke',
        Door: 'invoke',
        TransferredAt: '2026-11-23T10:00:00.000Z',
      })),
    });
  });

  it('reads a contact without a CONTACT# item as the first contact of its own tree', async () => {
    dynamodb.on(GetItemCommand).resolves({});
    dynamodb.on(QueryCommand).resolves({ Items: [] });
    expect(await history.list({ ContactId: 'first', maxResults: 5 })).toEqual({ Transfers: [] });
    expect(dynamodb.commandCalls(QueryCommand)[0]!.args[0].input.ExpressionAttributeValues?.[':tree']).toEqual({ S: 'TREE#first' });
  });

  it('turns the last evaluated key into a NextToken that resumes the same tree, and refuses it for another tree', async () => {
    dynamodb.on(GetItemCommand).resolves({});
    const lastKey = marshall({ pk: 'TREE#first', sk: 'TRANSFER#0001#c-1' });
    dynamodb.on(QueryCommand).resolvesOnce({ Items: [record(1)], LastEvaluatedKey: lastKey }).resolves({ Items: [record(2)] });
    const first = await history.list({ ContactId: 'first', maxResults: 1 });
    expect(first.NextToken).toEqual(expect.any(String));
    expect(first.NextToken).not.toContain('TREE#');

    await history.list({ ContactId: 'first', maxResults: 1, nextToken: first.NextToken! });
    expect(dynamodb.commandCalls(QueryCommand)[1]!.args[0].input.ExclusiveStartKey).toEqual(lastKey);

    const elsewhere = history.list({ ContactId: 'another-first', maxResults: 1, nextToken: first.NextToken! });
    await expect(elsewhere).rejects.toBeInstanceOf(TransferError);
    await expect(elsewhere).rejects.toMatchObject({ reason: 'VALIDATION_FAILED', fields: [{ Field: 'NextToken' }] });
    expect(dynamodb.commandCalls(QueryCommand)).toHaveLength(2);
  });

  it('reads on past reservations that are not history yet, so a page is as full as the tree allows', async () => {
    dynamodb.on(GetItemCommand).resolves({});
    dynamodb
      .on(QueryCommand)
      .resolvesOnce({ Items: [record(1)], LastEvaluatedKey: marshall({ pk: 'TREE#first', sk: 'TRANSFER#0002#c-2' }) })
      .resolvesOnce({ Items: [record(3)] });
    const page = await history.list({ ContactId: 'first', maxResults: 3 });
    expect(page.Transfers.map((item) => item.TransferNumber)).toEqual([1, 3]);
    expect(page.NextToken).toBeUndefined();
    const [first, second] = dynamodb.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(first!.FilterExpression).toBe('attribute_not_exists(#status) OR #status = :transferred');
    expect([first!.Limit, second!.Limit]).toEqual([3, 2]);
  });

  it.each([
    ['not base64 JSON', '%%%'],
    ['a sort key the ledger never writes', Buffer.from(JSON.stringify(['TREE#first', `TRANSFER#0001#${'x'.repeat(1100)}`])).toString('base64url')],
    ['another item kind', Buffer.from(JSON.stringify(['TREE#first', 'RESULT'])).toString('base64url')],
  ])('refuses a NextToken that is %s without asking DynamoDB to read it', async (_name, nextToken) => {
    dynamodb.on(GetItemCommand).resolves({});
    await expect(history.list({ ContactId: 'first', maxResults: 1, nextToken })).rejects.toMatchObject({ reason: 'VALIDATION_FAILED', fields: [{ Field: 'NextToken' }] });
    expect(dynamodb.commandCalls(QueryCommand)).toHaveLength(0);
  });

  it('lets a DynamoDB failure through for the door to answer as INTERNAL_ERROR', async () => {
    dynamodb.on(GetItemCommand).rejects(new Error('ProvisionedThroughputExceededException'));
    await expect(history.list({ ContactId: 'c-1', maxResults: 1 })).rejects.toThrow('ProvisionedThroughputExceededException');
  });
});
