import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { TransferError } from '../../../lambda/domain/errors';
import { bufferedRecordDoor, isBufferEvent, originalRequestOf, receiveCountOf, serveBuffer, transferEventOf, trustedBufferedRecordDoor } from '../../../lambda/doors/sqs';
import { QueueModel } from '../../../local/buffered-delivery';
import { eventBridgeEvent, lambdaContext } from '../../../local/lambda-events';

const ARN = 'arn:aws:sqs:us-east-1:111122223333:event-buffer';
const recordOf = (body: string, arn = ARN): SQSRecord => {
  const queue = new QueueModel({ arn, visibilityTimeoutMs: 1000 });
  queue.send(body);
  return queue.receive(1)[0]!;
};
const request = { ContactId: 'c-1', ContactFlowId: 'f-1', QueueId: 'q-1', ClientToken: 'crm-1' };
const rejectionOf = (body: string) => {
  try {
    transferEventOf(recordOf(body));
  } catch (error) {
    return error instanceof TransferError ? `${error.reason}: ${error.message}` : error;
  }
  return 'accepted';
};

describe('the buffered event door', () => {
  it('takes SQS events only when every record comes from the configured buffer', () => {
    const own = recordOf('{}');
    expect(isBufferEvent({ Records: [own] }, ARN)).toBe(true);
    expect(isBufferEvent({ Records: [own, recordOf('{}', `${ARN}-other`)] }, ARN)).toBe(false);
    expect(isBufferEvent({ Records: [own] }, undefined)).toBe(false);
    expect(isBufferEvent({ Records: [] }, ARN)).toBe(false);
    expect(isBufferEvent(eventBridgeEvent(request), ARN)).toBe(false);
  });

  it('as deployed, takes an event only from a configured source in the stack\'s account, whoever sent it to the queue', () => {
    const door = trustedBufferedRecordDoor({ account: '111122223333', eventSources: ['internal.contact-transfer'] });
    expect(door.input(recordOf(JSON.stringify(eventBridgeEvent(request))))).toEqual(request);
    for (const forged of [eventBridgeEvent(request, { source: 'someone.else' }), eventBridgeEvent(request, { account: '444455556666' })]) {
      expect(() => door.input(recordOf(JSON.stringify(forged)))).toThrow(/not from a configured source in this stack's account/);
    }
  });

  it('reads the EventBridge event the rule delivered', () => {
    const event = eventBridgeEvent(request, { id: 'event-1' });
    expect(transferEventOf(recordOf(JSON.stringify(event)))).toEqual(event);
    expect(bufferedRecordDoor.input(recordOf(JSON.stringify(event)))).toEqual(request);
    expect(bufferedRecordDoor.origin(recordOf(JSON.stringify(event)), lambdaContext())).toEqual({
      door: 'eventbridge',
      caller: 'internal.contact-transfer/event-1',
      correlationId: 'event-1',
    });
  });

  it('answers what is not a transfer event with a final VALIDATION_FAILED and its reason', () => {
    expect(rejectionOf('{not json')).toMatch(/^VALIDATION_FAILED: The buffered message is not JSON/);
    expect(rejectionOf('[1]')).toMatch(/^VALIDATION_FAILED: The buffered message is not an EventBridge event/);
    expect(rejectionOf(JSON.stringify({ ...eventBridgeEvent(request), 'detail-type': 'Other' }))).toMatch(/not a TransferContact event \(detail-type "Other"\)/);
    expect(rejectionOf(JSON.stringify(eventBridgeEvent('text')))).toMatch(/detail must be a JSON object/);
    expect(rejectionOf(JSON.stringify(eventBridgeEvent([request])))).toMatch(/detail must be a JSON object/);
    const { id: _id, ...withoutId } = eventBridgeEvent(request);
    expect(rejectionOf(JSON.stringify(withoutId))).toMatch(/no source or id/);
  });

  it('keeps the original request for the failure event, even when it is not JSON', () => {
    expect(originalRequestOf(recordOf(JSON.stringify(eventBridgeEvent(request))))).toEqual(request);
    expect(originalRequestOf(recordOf('{not json'))).toBe('{not json');
    expect(bufferedRecordDoor.origin(recordOf('{not json'), lambdaContext()).caller).toMatch(/^sqs\//);
  });

  it('counts receives from the record\'s attributes', () => {
    const queue = new QueueModel({ arn: ARN, visibilityTimeoutMs: 0 });
    queue.send('{}');
    queue.receive(1);
    expect(receiveCountOf(queue.receive(1)[0]!)).toBe(2);
  });

  it('returns rejections (the record is deleted) and throws retryable failures as the TransferError they are (the record comes back)', () => {
    expect(bufferedRecordDoor.failed(TransferError.of('CONTACT_NOT_ACTIVE'), bufferedRecordDoor.origin(recordOf('{}'), lambdaContext()))).toEqual({
      outcome: 'rejected',
      Type: 'InvalidRequestException',
      ReasonCode: 'CONTACT_NOT_ACTIVE',
      Message: 'The contact has ended; only active contacts can be transferred.',
    });
    for (const reason of ['THROTTLED', 'REQUEST_IN_PROGRESS', 'UPSTREAM_FAILURE', 'INTERNAL_ERROR'] as const) {
      const failure = TransferError.of(reason);
      expect(() => bufferedRecordDoor.failed(failure, bufferedRecordDoor.origin(recordOf('{}'), lambdaContext()))).toThrow(failure);
    }
  });
});

describe('the buffered event door: what else reaches it', () => {
  const own = () => recordOf('{}');
  it.each<[string, unknown]>([
    ['null', null],
    ['a string', 'Records'],
    ['Records that are not a list', { Records: 'x' }],
    ['a record that is null', { Records: [null] }],
    ['a record from another event source', { Records: [{ ...own(), eventSource: 'aws:kinesis' }] }],
    ['a record without a body', { Records: [{ ...own(), body: undefined }] }],
    ['a record without a message id', { Records: [{ ...own(), messageId: 7 }] }],
  ])('%s is not a buffer event', (_case, event) => {
    expect(isBufferEvent(event, ARN)).toBe(false);
  });

  it.each<[string, string, RegExp]>([
    ['JSON null', 'null', /not an EventBridge event/],
    ['an event without a source', JSON.stringify({ ...eventBridgeEvent(request), source: undefined }), /no source or id/],
    ['an event whose detail is null', JSON.stringify(eventBridgeEvent(null)), /detail must be a JSON object/],
  ])('%s is a final VALIDATION_FAILED with its reason', (_case, body, reason) => {
    expect(rejectionOf(body)).toMatch(new RegExp(`^VALIDATION_FAILED: .*${reason.source}`));
  });

  it('who asked, when the body names no event: the message id, for any body', () => {
    for (const body of ['null', '"text"', JSON.stringify({ id: 'event-1' }), JSON.stringify({ source: 'internal.contact-transfer' })]) {
      const record = recordOf(body);
      expect(bufferedRecordDoor.origin(record, lambdaContext())).toEqual({ door: 'eventbridge', caller: `sqs/${record.messageId}`, correlationId: record.messageId });
    }
  });

  it('the failure event carries whatever the publisher sent when it is no event', () => {
    expect(originalRequestOf(recordOf('null'))).toBeNull();
    expect(originalRequestOf(recordOf('"text"'))).toBe('text');
    expect(originalRequestOf(recordOf('{"ContactId":"c-1"}'))).toEqual({ ContactId: 'c-1' });
  });

  it.each<[string, Record<string, string> | undefined, number]>([
    ['no attributes', undefined, 1],
    ['a count of 0', { ApproximateReceiveCount: '0' }, 1],
    ['a count that is not a number', { ApproximateReceiveCount: 'many' }, 1],
    ['a count of 1', { ApproximateReceiveCount: '1' }, 1],
    ['a count of 3', { ApproximateReceiveCount: '3' }, 3],
  ])('a record with %s counts as received %i time(s)', (_case, attributes, count) => {
    expect(receiveCountOf({ ...own(), attributes } as unknown as SQSRecord)).toBe(count);
  });

  it('answers a transfer, a replay and one the ledger has yet to record, as the buffer reports them', () => {
    const origin = bufferedRecordDoor.origin(own(), lambdaContext());
    const result = { ContactId: 'c-2', ContactArn: 'arn:aws:connect:us-east-1:111122223333:instance/i/contact/c-2' };
    expect(bufferedRecordDoor.succeeded({ result, replayed: false }, origin)).toEqual({ outcome: 'transferred', ...result });
    expect(bufferedRecordDoor.succeeded({ result, replayed: true }, origin)).toEqual({ outcome: 'replayed', ...result });
    expect(bufferedRecordDoor.succeeded({ result, replayed: false, unrecorded: true }, origin)).toEqual({ outcome: 'transferred', ...result, unrecorded: true });
  });
});

describe('serveBuffer: one batch from the buffer', () => {
  it('serves the records one at a time, in order, and reports exactly the failed ones for SQS to return', async () => {
    const records = ['a', 'b', 'c'].map((body) => recordOf(body));
    const served: string[] = [];
    let running = 0;
    const response = await serveBuffer({ Records: records }, lambdaContext(), async (record) => {
      running += 1;
      expect(running).toBe(1);
      await new Promise((resolve) => setImmediate(resolve));
      served.push(record.body);
      running -= 1;
      if (record.body === 'b') throw new Error('THROTTLED: retry later');
    });
    expect(served).toEqual(['a', 'b', 'c']);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: records[1]!.messageId }] });
  });

  it('a batch whose every record failed is answered, not thrown, with each of them', async () => {
    const records = ['a', 'b'].map((body) => recordOf(body));
    const response = await serveBuffer({ Records: records }, lambdaContext(), async () => {
      throw new Error('UPSTREAM_FAILURE');
    });
    expect(response).toEqual({ batchItemFailures: records.map(({ messageId }) => ({ itemIdentifier: messageId })) });
  });
});
