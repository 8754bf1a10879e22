import { ChangeMessageVisibilityCommand, ReceiptHandleIsInvalid, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { BufferVisibility, queueUrlOf } from '../../../lambda/adapters/buffer-visibility';
import { EVENT_BUFFER, SQS_MAX_VISIBILITY_SECONDS, returnDelayFor, returnDelaySeconds } from '../../../lambda/event-buffer';

const client = new SQSClient({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 's' } });
const sqs = mockClient(client);
beforeEach(() => sqs.reset());

describe('BufferVisibility (ChangeMessageVisibility on the event door\'s buffer)', () => {
  it('sets the record\'s return on the queue the ARN names, by its receipt handle', async () => {
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    await new BufferVisibility(client, 'arn:aws:sqs:eu-west-1:111122223333:gateway-EventBuffer-abc').returnAfter('handle-1', 60);
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand).map((call) => call.args[0].input)).toEqual([
      { QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/gateway-EventBuffer-abc', ReceiptHandle: 'handle-1', VisibilityTimeout: 60 },
    ]);
  });

  it('passes SQS\'s refusal on, so the caller can leave the record to the visibility timeout', async () => {
    sqs.on(ChangeMessageVisibilityCommand).rejects(new ReceiptHandleIsInvalid({ message: 'stale', $metadata: {} }));
    await expect(new BufferVisibility(client, 'arn:aws:sqs:eu-west-1:111122223333:buffer').returnAfter('old', 30)).rejects.toThrow('stale');
  });

  it('derives queue URLs in every partition\'s domain and refuses what is not a queue ARN', () => {
    expect(queueUrlOf('arn:aws-cn:sqs:cn-north-1:111122223333:buffer')).toBe('https://sqs.cn-north-1.amazonaws.com.cn/111122223333/buffer');
    expect(queueUrlOf('arn:aws-us-gov:sqs:us-gov-west-1:111122223333:buffer')).toBe('https://sqs.us-gov-west-1.amazonaws.com/111122223333/buffer');
    expect(() => queueUrlOf('arn:aws:sns:eu-west-1:111122223333:topic')).toThrow('Not an SQS queue ARN');
    expect(() => new BufferVisibility(client, 'buffer')).toThrow('Not an SQS queue ARN');
  });
});

describe('the buffer\'s retry schedule (lambda/event-buffer.ts)', () => {
  const withoutJitter = (receiveCount: number) => returnDelaySeconds(receiveCount, 0);

  it('starts at 30 s, doubles with every receive, and stops growing at 5 minutes', () => {
    expect([1, 2, 3, 4, 5, 6, 20].map(withoutJitter)).toEqual([30, 60, 120, 240, 300, 300, 300]);
  });

  it('adds up to a fifth at random, never less, and never asks SQS for more than it allows', () => {
    expect(returnDelaySeconds(1, 0.999)).toBe(36);
    expect(returnDelaySeconds(5, 0.5)).toBe(330);
    for (let receive = 1; receive <= EVENT_BUFFER.maxReceiveCount; receive += 1) {
      for (const random of [0, 0.3, 0.999]) {
        const delay = returnDelaySeconds(receive, random);
        expect(delay).toBeGreaterThanOrEqual(withoutJitter(receive));
        expect(delay).toBeLessThanOrEqual(Math.min(SQS_MAX_VISIBILITY_SECONDS, Math.ceil(withoutJitter(receive) * 1.2)));
      }
    }
  });

  it('keeps a record for an hour of retries even when every return is the quickest and falls back to the visibility timeout, and no receive more', () => {
    const quickest = (receive: number) =>
      Math.min(returnDelayFor(receive, { pacedOut: true, random: 0 }), returnDelayFor(receive, { random: 0 }), EVENT_BUFFER.visibilityTimeoutSeconds);
    const floor = (receives: number) => Array.from({ length: receives - 1 }, (_, index) => quickest(index + 1)).reduce((sum, wait) => sum + wait, 0);
    expect(floor(EVENT_BUFFER.maxReceiveCount)).toBeGreaterThanOrEqual(3600);
    expect(floor(EVENT_BUFFER.maxReceiveCount - 1)).toBeLessThan(3600);
  });

  it('returns a paced-out record about one invocation later for its first few receives, then backs it off like a failing one', () => {
    const quick = Array.from({ length: EVENT_BUFFER.pacedOutQuickReturns }, (_, index) => returnDelayFor(index + 1, { pacedOut: true, random: 0.5 }));
    expect(quick).toEqual(quick.map(() => EVENT_BUFFER.pacedOutSeconds));
    expect(EVENT_BUFFER.pacedOutSeconds).toBeLessThan(withoutJitter(1));
    const later = EVENT_BUFFER.pacedOutQuickReturns + 1;
    expect(returnDelayFor(later, { pacedOut: true, random: 0.5 })).toBe(returnDelayFor(later, { random: 0.5 }));
    expect(returnDelayFor(later, { pacedOut: true, random: 0.5 })).toBeGreaterThan(EVENT_BUFFER.pacedOutSeconds);
  });
});
