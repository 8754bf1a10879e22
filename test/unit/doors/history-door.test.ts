import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { historyQueryOf, historyResponse, isHistoryRequest } from '../../../lambda/doors/history';
import { apiGatewayProxyEvent } from '../../../local/lambda-events';

/** `GET /contact/transfers/{ContactId}` as API Gateway hands it over (the builder local mode uses). */
function historyEvent(contactId: string, query: Record<string, string> = {}, method = 'GET'): APIGatewayProxyEvent {
  return apiGatewayProxyEvent({
    body: null,
    route: { method, resource: '/contact/transfers/{ContactId}', path: `/contact/transfers/${contactId}`, pathParameters: { ContactId: contactId }, query },
  });
}

/** A 400 VALIDATION_FAILED naming exactly these parameters, in this order. */
const refusedNaming = (...fields: string[]) =>
  expect.objectContaining({ reason: 'VALIDATION_FAILED', status: 400, type: 'InvalidRequestException', fields: fields.map((Field) => expect.objectContaining({ Field })) });

describe('the history route (contract section 10)', () => {
  it('is a GET of the history resource; a POST to it or a GET of the transfer resource is not', () => {
    expect(isHistoryRequest(historyEvent('c-1'))).toBe(true);
    expect(isHistoryRequest(historyEvent('c-1', {}, 'POST'))).toBe(false);
    expect(isHistoryRequest({ ...historyEvent('c-1'), resource: '/contact/transfer' })).toBe(false);
  });

  it('without parameters asks for the largest page, 100, from the start', () => {
    expect(historyQueryOf(historyEvent('c-1'))).toEqual({ ContactId: 'c-1', maxResults: 100 });
  });

  it.each(['1', '37', '100'])('takes MaxResults %s', (value) => {
    expect(historyQueryOf(historyEvent('c-1', { MaxResults: value }))).toEqual({ ContactId: 'c-1', maxResults: Number(value) });
  });

  it('passes a NextToken on as it came', () => {
    expect(historyQueryOf(historyEvent('c-1', { NextToken: 'page-2' }))).toEqual({ ContactId: 'c-1', maxResults: 100, nextToken: 'page-2' });
    const longest = 'n'.repeat(2048);
    expect(historyQueryOf(historyEvent('c-1', { NextToken: longest })).nextToken).toBe(longest);
  });

  it.each(['0', '101', '1.5', '-1', '', ' 5', '5e1', '0x10', 'ten'])('refuses MaxResults "%s" with a 400 naming MaxResults', (value) => {
    expect(() => historyQueryOf(historyEvent('c-1', { MaxResults: value }))).toThrow(refusedNaming('MaxResults'));
  });

  it.each([
    ['empty', ''],
    ['longer than any token the gateway issues', 'n'.repeat(2049)],
  ])('refuses a NextToken %s with a 400 naming NextToken', (_case, value) => {
    expect(() => historyQueryOf(historyEvent('c-1', { NextToken: value }))).toThrow(refusedNaming('NextToken'));
  });

  it('refuses a ContactId a transfer request could not name, or none at all', () => {
    expect(() => historyQueryOf(historyEvent('c'.repeat(257)))).toThrow(refusedNaming('ContactId'));
    expect(() => historyQueryOf(historyEvent('c-\ud800'))).toThrow(refusedNaming('ContactId'));
    expect(() => historyQueryOf({ ...historyEvent('c-1'), pathParameters: null })).toThrow(refusedNaming('ContactId'));
    expect(historyQueryOf(historyEvent('c'.repeat(256))).ContactId).toHaveLength(256);
  });

  it('names every parameter that is wrong in one answer, with what it must be', () => {
    expect(() => historyQueryOf(historyEvent('c'.repeat(257), { MaxResults: '0', NextToken: '' }))).toThrow(
      expect.objectContaining({
        fields: [
          { Field: 'ContactId', Message: 'must be a contact id of 1 to 256 characters' },
          { Field: 'MaxResults', Message: 'must be a whole number from 1 to 100' },
          { Field: 'NextToken', Message: 'must be the NextToken of an earlier page' },
        ],
      }),
    );
  });

  it('answers a page as JSON with the request id, as every other answer', () => {
    const page = { Transfers: [], NextToken: 'page-2' };
    const answer = historyResponse(page, { door: 'https', caller: 'arn:aws:iam::123456789012:user/alice', correlationId: 'req-1' });
    expect(answer).toEqual({ statusCode: 200, headers: { 'Content-Type': 'application/json', 'x-amzn-RequestId': 'req-1' }, body: JSON.stringify(page) });
  });
});
