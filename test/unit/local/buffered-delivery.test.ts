import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { EventSourceMappingModel, QueueModel } from '../../../local/buffered-delivery';
import { startSqsEndpoint } from '../../../local/sqs-endpoint';

/** The delivery models the event-door tests and the burst benchmark rely on behave as SQS and Lambda document. */
const ARN = 'arn:aws:sqs:us-east-1:111122223333:buffer';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the SQS queue model', () => {
  it('hides a received message for the visibility timeout, then delivers it again with a higher receive count', async () => {
    const queue = new QueueModel({ arn: ARN, visibilityTimeoutMs: 40 });
    queue.send('a');
    expect(queue.receive(10).map((record) => record.attributes.ApproximateReceiveCount)).toEqual(['1']);
    expect(queue.receive(10)).toEqual([]);
    await sleep(60);
    expect(queue.receive(10).map((record) => record.attributes.ApproximateReceiveCount)).toEqual(['2']);
  });

  it('deletes only with the latest receipt handle', async () => {
    const queue = new QueueModel({ arn: ARN, visibilityTimeoutMs: 10 });
    queue.send('a');
    const first = queue.receive(1)[0]!;
    await sleep(20);
    const second = queue.receive(1)[0]!;
    queue.delete(first.receiptHandle);
    expect(queue.size).toBe(1);
    queue.delete(second.receiptHandle);
    expect(queue.size).toBe(0);
  });

  it('moves a message to the dead-letter queue on the receive after its maxReceiveCount-th', async () => {
    const deadLetters = new QueueModel({ arn: `${ARN}-dlq`, visibilityTimeoutMs: 10 });
    const queue = new QueueModel({ arn: ARN, visibilityTimeoutMs: 5, maxReceiveCount: 2, deadLetterQueue: deadLetters });
    queue.send('poison');
    expect(queue.receive(1)).toHaveLength(1);
    await sleep(10);
    expect(queue.receive(1)).toHaveLength(1);
    await sleep(10);
    expect(queue.receive(1)).toEqual([]);
    expect(deadLetters.bodies()).toEqual(['poison']);
  });
});

describe('the event source mapping model', () => {
  it('batches up to the batch size, runs at most maxConcurrency invocations, deletes all but the reported failures', async () => {
    const queue = new QueueModel({ arn: ARN, visibilityTimeoutMs: 60_000 });
    for (const body of ['1', '2', '3', '4', '5', 'fail']) queue.send(body);
    let running = 0;
    let peak = 0;
    const mapping = new EventSourceMappingModel({
      queue,
      batchSize: 2,
      maxConcurrency: 2,
      functionTimeoutMs: 1000,
      handler: async (event: SQSEvent) => {
        running += 1;
        peak = Math.max(peak, running);
        await sleep(20);
        running -= 1;
        return { batchItemFailures: event.Records.filter((record) => record.body === 'fail').map((record) => ({ itemIdentifier: record.messageId })) };
      },
    });
    mapping.start();
    while (mapping.invocations.length < 3) await sleep(5);
    await mapping.stop();
    expect(mapping.invocations.map((invocation) => invocation.records)).toEqual([2, 2, 2]);
    expect(peak).toBe(2);
    expect(queue.bodies()).toEqual(['fail']);
  });

  it('keeps the whole batch when the function fails, times out or answers an unknown item', async () => {
    for (const handler of [
      async () => {
        throw new Error('boom');
      },
      () => new Promise(() => undefined),
      async () => ({ batchItemFailures: [{ itemIdentifier: 'not-in-the-batch' }] }),
    ]) {
      const queue = new QueueModel({ arn: ARN, visibilityTimeoutMs: 60_000 });
      queue.send('a');
      queue.send('b');
      const mapping = new EventSourceMappingModel({ queue, batchSize: 10, maxConcurrency: 2, functionTimeoutMs: 30, handler });
      mapping.start();
      while (mapping.invocations.length < 1) await sleep(5);
      await mapping.stop();
      expect(mapping.invocations[0]).toMatchObject({ records: 2, failed: 2 });
      expect(queue.size).toBe(2);
    }
  });
});

describe('ChangeMessageVisibility on the queue model, over the SQS JSON protocol the SDK speaks', () => {
  const client = (url: string) => new SQSClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 's' }, useQueueUrlAsEndpoint: false });
  const queueUrl = 'https://sqs.us-east-1.amazonaws.com/111122223333/buffer';

  it('returns the message when the new timeout says, for this receive only (compressed: 1 s of SQS\'s in 10 ms)', async () => {
    const queue = new QueueModel({ arn: ARN, visibilityTimeoutMs: 10_000, msPerSecond: 10 });
    const endpoint = await startSqsEndpoint([queue]);
    try {
      queue.send('a');
      const [first] = queue.receive(1);
      await client(endpoint.url).send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: first!.receiptHandle, VisibilityTimeout: 3 }));
      expect(queue.receive(1)).toEqual([]);
      await sleep(60);
      const [second] = queue.receive(1);
      expect(second?.attributes.ApproximateReceiveCount).toBe('2');
      // The next receive starts from the queue's own timeout again.
      expect(queue.nextVisibleAt()! - Date.now()).toBeGreaterThan(5_000);
      expect(queue.visibilityChanges).toEqual([{ messageId: first!.messageId, receiveCount: 1, seconds: 3 }]);
    } finally {
      await endpoint.close();
    }
  });

  it('refuses, as SQS does, a stale receipt handle, more than 12 hours, and everything while told to', async () => {
    const queue = new QueueModel({ arn: ARN, visibilityTimeoutMs: 10_000 });
    const endpoint = await startSqsEndpoint([queue]);
    const sqs = client(endpoint.url);
    const change = (ReceiptHandle: string, VisibilityTimeout: number) => sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle, VisibilityTimeout }));
    try {
      queue.send('a');
      const [record] = queue.receive(1);
      await expect(change('not-a-handle', 30)).rejects.toMatchObject({ name: 'ReceiptHandleIsInvalid' });
      await expect(change(record!.receiptHandle, 43_201)).rejects.toMatchObject({ name: 'InvalidParameterValue' });
      endpoint.refuse = true;
      await expect(change(record!.receiptHandle, 30)).rejects.toMatchObject({ name: 'AccessDenied' });
      expect(queue.visibilityChanges).toEqual([]);
    } finally {
      await endpoint.close();
    }
  });
});
