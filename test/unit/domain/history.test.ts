import { describe, expect, it } from 'vitest';
import { historyPageSchema, invalidNextToken, parseHistoryQuery } from '../../../lambda/domain/history';

/** One transfer as the ledger lists it, every member set. */
const item = {
  TransferNumber: 1,
  FromContactId: 'c-1',
  ToContactId: 'c-2',
  ToContactArn: 'arn:aws:connect:eu-west-1:123456789012:instance/i-1/contact/c-2',
  ContactFlowId: 'f-1',
  QueueId: 'q-1',
  RequestedBy: 'arn:aws:iam::123456789012:role/caller',
  Door: 'https',
  TransferredAt: '2026-12-05T12:00:00.000Z',
  Note: 'n',
  ScheduleId: 's-1',
};

describe('the history page as the OpenAPI document and the client describe it (contract section 10)', () => {
  it.each(['https', 'eventbridge', 'invoke'])('a transfer through the %s door is a valid page item, kept member for member', (Door) => {
    const page = { Transfers: [{ ...item, Door }], NextToken: 'page-2' };
    expect(historyPageSchema.parse(page)).toEqual(page);
  });

  it('a door the gateway does not have is not a valid page item', () => {
    expect(historyPageSchema.safeParse({ Transfers: [{ ...item, Door: 'sqs' }] }).success).toBe(false);
  });

  it('an item without its required members is not a valid page item', () => {
    expect(historyPageSchema.safeParse({ Transfers: [{ Door: 'https' }] }).success).toBe(false);
    expect(historyPageSchema.safeParse({}).success).toBe(false);
  });
});

describe('parseHistoryQuery', () => {
  it('without a NextToken the query has none, not even an undefined one', () => {
    expect(parseHistoryQuery('c-1', {})).toStrictEqual({ ContactId: 'c-1', maxResults: 100 });
  });

  it.each([
    ['missing', undefined],
    ['not text', 42],
    ['empty', ''],
  ])('a ContactId that is %s is VALIDATION_FAILED naming ContactId', (_case, contactId) => {
    expect(() => parseHistoryQuery(contactId, {})).toThrow(
      expect.objectContaining({ reason: 'VALIDATION_FAILED', fields: [{ Field: 'ContactId', Message: 'must be a contact id of 1 to 256 characters' }] }),
    );
  });
});

describe('a NextToken the gateway did not issue for this contact', () => {
  it('is a 400 naming NextToken and saying where a valid one comes from', () => {
    expect(invalidNextToken()).toMatchObject({
      reason: 'VALIDATION_FAILED',
      status: 400,
      type: 'InvalidRequestException',
      fields: [{ Field: 'NextToken', Message: "must be the NextToken of an earlier page of this contact's history" }],
    });
  });
});
