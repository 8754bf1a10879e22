import { randomUUID } from 'node:crypto';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { lambdaContext } from './lambda-events';

/**
 * AWS's delivery semantics for the event door's wiring, as models that local mode, the integration tests and
 * `npm run bench -- --burst` share. Numbers and rules come from the AWS documentation cited at each one; waits are
 * in milliseconds so a test can compress them, and every caller that does says so.
 */

export interface QueueModelOptions {
  readonly arn: string;
  /**
   * While a received message is invisible to other receivers; it comes back when this passes without a delete
   * (SQS developer guide, "Amazon SQS visibility timeout"). The stack uses 120 s.
   */
  readonly visibilityTimeoutMs: number;
  /** Receives before SQS moves a message to the dead-letter queue (redrive policy's maxReceiveCount). */
  readonly maxReceiveCount?: number;
  readonly deadLetterQueue?: QueueModel;
  /**
   * Milliseconds one second of a ChangeMessageVisibility lasts: 1000 unless a test compresses SQS's waits with the
   * visibility timeout (and says so).
   */
  readonly msPerSecond?: number;
}

/** An SQS API error as the service names it (`__type` of its JSON protocol), for the HTTP front to send back. */
export class SqsModelError extends Error {
  constructor(
    readonly code: 'ReceiptHandleIsInvalid' | 'MessageNotInflight' | 'InvalidParameterValue',
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

/** ChangeMessageVisibility's VisibilityTimeout range and its limit per receive (SQS API reference). */
const MAX_VISIBILITY_SECONDS = 43_200;

interface StoredMessage {
  readonly messageId: string;
  readonly body: string;
  readonly messageAttributes: SQSRecord['messageAttributes'];
  /** The queue SQS moved it from after its last receive there (the DeadLetterQueueSourceArn system attribute). */
  readonly deadLetterQueueSourceArn?: string;
  readonly sentAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  visibleAt: number;
  receiptHandle?: string;
  receivedAt?: number;
}

/** One ChangeMessageVisibility the queue accepted, for tests and the benchmark to read. */
export interface VisibilityChange {
  readonly messageId: string;
  readonly receiveCount: number;
  readonly seconds: number;
}

/** A standard SQS queue: visibility timeout, receive count, redrive to a dead-letter queue. */
export class QueueModel {
  private readonly messages = new Map<string, StoredMessage>();
  private readonly listeners = new Set<() => void>();
  readonly visibilityChanges: VisibilityChange[] = [];

  constructor(private readonly options: QueueModelOptions) {}

  get arn(): string {
    return this.options.arn;
  }

  /** Message attributes as a sender sets them: EventBridge's rule-target DLQ adds ERROR_CODE and others. */
  send(body: string, messageAttributes: Record<string, string> = {}): string {
    return this.store(body, messageAttributes);
  }

  /**
   * What SQS's redrive puts here from `sourceQueueArn` after a message's last receive there: its body and message
   * attributes, and the DeadLetterQueueSourceArn system attribute, which no sender can set.
   */
  redriveFrom(sourceQueueArn: string, body: string, messageAttributes: Record<string, string> = {}): string {
    return this.store(body, messageAttributes, sourceQueueArn);
  }

  private store(body: string, messageAttributes: Record<string, string>, deadLetterQueueSourceArn?: string): string {
    const messageId = randomUUID();
    const attributes = Object.fromEntries(Object.entries(messageAttributes).map(([name, stringValue]) => [name, { stringValue, dataType: 'String' }]));
    this.messages.set(messageId, {
      messageId,
      body,
      messageAttributes: attributes,
      ...(deadLetterQueueSourceArn !== undefined && { deadLetterQueueSourceArn }),
      sentAt: Date.now(),
      receiveCount: 0,
      visibleAt: 0,
    });
    this.notify();
    return messageId;
  }

  /**
   * Up to `max` visible messages, each now invisible for the visibility timeout with its receive count raised. A
   * message already received maxReceiveCount times is moved to the dead-letter queue instead of being delivered again
   * (SQS developer guide, "Using dead-letter queues in Amazon SQS": when the receive count exceeds maxReceiveCount).
   */
  receive(max: number): SQSRecord[] {
    const now = Date.now();
    const records: SQSRecord[] = [];
    for (const message of [...this.messages.values()].sort((a, b) => a.sentAt - b.sentAt)) {
      if (records.length >= max) break;
      if (message.visibleAt > now) continue;
      const { maxReceiveCount, deadLetterQueue } = this.options;
      if (maxReceiveCount !== undefined && deadLetterQueue && message.receiveCount >= maxReceiveCount) {
        this.messages.delete(message.messageId);
        // A redrive keeps the body and message attributes (SQS developer guide, "Using dead-letter queues").
        deadLetterQueue.redriveFrom(this.options.arn, message.body, Object.fromEntries(Object.entries(message.messageAttributes).map(([name, value]) => [name, value.stringValue ?? ''])));
        continue;
      }
      message.receiveCount += 1;
      message.firstReceivedAt ??= now;
      message.visibleAt = now + this.options.visibilityTimeoutMs;
      message.receiptHandle = randomUUID();
      message.receivedAt = now;
      records.push(this.recordOf(message));
    }
    return records;
  }

  /** Only the latest receipt handle deletes (SQS: an earlier receive's handle is stale once the message came back). */
  delete(receiptHandle: string): void {
    for (const message of this.messages.values()) {
      if (message.receiptHandle === receiptHandle) this.messages.delete(message.messageId);
    }
  }

  /**
   * ChangeMessageVisibility: the message received with this handle becomes visible `seconds` from now, for this
   * receive only (the next receive starts from the queue's visibility timeout again). SQS refuses a handle that is
   * not the latest receive's, a message no longer in flight, and a total over 12 hours from the receive (SQS API
   * reference, ChangeMessageVisibility).
   */
  changeVisibility(receiptHandle: string, seconds: number): void {
    const message = [...this.messages.values()].find((candidate) => candidate.receiptHandle === receiptHandle);
    if (!message) throw new SqsModelError('ReceiptHandleIsInvalid', `The receipt handle "${receiptHandle}" is not valid for this queue.`);
    const now = Date.now();
    if (message.visibleAt <= now) throw new SqsModelError('MessageNotInflight', 'The message referred to is not in flight.');
    const msPerSecond = this.options.msPerSecond ?? 1000;
    const sinceReceive = (now - (message.receivedAt ?? now)) / msPerSecond;
    if (!Number.isInteger(seconds) || seconds < 0 || seconds + sinceReceive > MAX_VISIBILITY_SECONDS) {
      throw new SqsModelError('InvalidParameterValue', `Value ${seconds} for parameter VisibilityTimeout is invalid: at most ${MAX_VISIBILITY_SECONDS} seconds from the receive.`);
    }
    message.visibleAt = now + seconds * msPerSecond;
    this.visibilityChanges.push({ messageId: message.messageId, receiveCount: message.receiveCount, seconds });
    if (seconds === 0) this.notify();
  }

  /** The queue's name, the last part of its ARN and of its URL. */
  get name(): string {
    return this.options.arn.split(':')[5] ?? '';
  }

  /** Messages in the queue, visible or in flight (ApproximateNumberOfMessages + ...NotVisible). */
  get size(): number {
    return this.messages.size;
  }

  bodies(): string[] {
    return [...this.messages.values()].map((message) => message.body);
  }

  /** When the next invisible message becomes visible again, if any is waiting. */
  nextVisibleAt(): number | undefined {
    const times = [...this.messages.values()].map((message) => message.visibleAt).filter((at) => at > Date.now());
    return times.length > 0 ? Math.min(...times) : undefined;
  }

  onMessage(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  private recordOf(message: StoredMessage): SQSRecord {
    return {
      messageId: message.messageId,
      receiptHandle: message.receiptHandle ?? '',
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receiveCount),
        SentTimestamp: String(message.sentAt),
        SenderId: 'AIDAEVENTBRIDGE',
        ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt ?? Date.now()),
        ...(message.deadLetterQueueSourceArn !== undefined && { DeadLetterQueueSourceArn: message.deadLetterQueueSourceArn }),
      },
      messageAttributes: message.messageAttributes,
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: this.options.arn,
      awsRegion: this.options.arn.split(':')[3] ?? 'us-east-1',
    };
  }
}

export type BatchHandler = (event: SQSEvent, context: Context) => Promise<unknown>;

export interface EventSourceMappingOptions {
  readonly queue: QueueModel;
  readonly handler: BatchHandler;
  /** Records per invocation at most (BatchSize). */
  readonly batchSize: number;
  /** Concurrent invocations at most (ScalingConfig.MaximumConcurrency). */
  readonly maxConcurrency: number;
  /** The function's timeout: an invocation that runs longer fails and its whole batch returns. */
  readonly functionTimeoutMs: number;
}

export interface InvocationReport {
  readonly records: number;
  readonly failed: number;
  readonly error?: unknown;
}

/**
 * Lambda's event source mapping for SQS (Lambda developer guide, "Using Lambda with Amazon SQS"): pollers receive
 * batches of up to BatchSize and invoke the function with at most MaximumConcurrency invocations at once. With
 * ReportBatchItemFailures, the records listed in `batchItemFailures` stay in the queue and every other one is deleted;
 * a function error, a timeout or an unreadable response fails the whole batch, which returns when its visibility
 * timeout passes ("Handling errors for an SQS event source in Lambda"). No batching window: the stack sets none.
 */
export class EventSourceMappingModel {
  private running = false;
  private inFlight = new Set<Promise<void>>();
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;
  readonly invocations: InvocationReport[] = [];
  /** The most invocations that ever ran at once. */
  peakConcurrency = 0;

  constructor(private readonly options: EventSourceMappingOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.options.queue.onMessage(() => this.wake?.());
    this.loop = this.poll();
  }

  /** Stops polling and waits for the invocations under way. */
  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.wake?.();
    await this.loop;
    await Promise.all(this.inFlight);
  }

  private async poll(): Promise<void> {
    while (this.running) {
      while (this.inFlight.size < this.options.maxConcurrency) {
        const records = this.options.queue.receive(this.options.batchSize);
        if (records.length === 0) break;
        const invocation = this.invoke(records).finally(() => {
          this.inFlight.delete(invocation);
          this.wake?.();
        });
        this.inFlight.add(invocation);
        this.peakConcurrency = Math.max(this.peakConcurrency, this.inFlight.size);
      }
      // Long polling: wake when a message arrives, an invocation ends, or a returned message becomes visible.
      const nextVisible = this.options.queue.nextVisibleAt();
      const waitMs = nextVisible === undefined ? 1000 : Math.max(1, nextVisible - Date.now());
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  private async invoke(records: SQSRecord[]): Promise<void> {
    const { queue, handler, functionTimeoutMs } = this.options;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('Task timed out')), functionTimeoutMs);
      });
      const response = await Promise.race([handler({ Records: records }, lambdaContext(functionTimeoutMs)), timeout]);
      const failures = failedIdsOf(response, records);
      if (failures === undefined) throw new Error('The function returned an invalid batch response');
      for (const record of records) if (!failures.has(record.messageId)) queue.delete(record.receiptHandle);
      this.invocations.push({ records: records.length, failed: failures.size });
    } catch (error) {
      // Nothing is deleted: every record returns once its visibility timeout passes.
      this.invocations.push({ records: records.length, failed: records.length, error });
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The ids a partial batch response lists; undefined when the response is unreadable (a complete failure). */
function failedIdsOf(response: unknown, records: readonly SQSRecord[]): Set<string> | undefined {
  if (response === undefined || response === null) return new Set();
  const items = (response as Partial<SQSBatchResponse>).batchItemFailures;
  if (items === undefined || items === null) return new Set();
  if (!Array.isArray(items)) return undefined;
  const known = new Set(records.map((record) => record.messageId));
  const ids = new Set<string>();
  for (const item of items) {
    const id = (item as { itemIdentifier?: unknown }).itemIdentifier;
    // An empty or unknown identifier makes Lambda treat the whole batch as failed.
    if (typeof id !== 'string' || !known.has(id)) return undefined;
    ids.add(id);
  }
  return ids;
}

/**
 * Lambda runs each concurrent invocation in a container of its own: the pool hands an invocation to an idle
 * container, creating one (a cold start: new caches, new clients) when all are busy.
 */
export function containerPool(createContainer: () => BatchHandler): BatchHandler & { readonly size: () => number } {
  const idle: BatchHandler[] = [];
  let created = 0;
  const handler = async (event: SQSEvent, context: Context): Promise<unknown> => {
    const container =
      idle.pop() ??
      (() => {
        created += 1;
        return createContainer();
      })();
    try {
      return await container(event, context);
    } finally {
      idle.push(container);
    }
  };
  return Object.assign(handler, { size: () => created });
}
