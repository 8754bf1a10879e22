import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';

/**
 * The queue URL of an SQS queue ARN (`arn:<partition>:sqs:<region>:<account>:<name>`), as SQS names it:
 * `https://sqs.<region>.<domain>/<account>/<name>` (SQS developer guide, "Amazon SQS queue and message identifiers").
 * The function knows its buffer by ARN, the one form the event source mapping and IAM need; deriving the URL spares a
 * GetQueueUrl call and its permission.
 */
export function queueUrlOf(queueArn: string): string {
  const [prefix, partition, service, region, account, name] = queueArn.split(':');
  if (prefix !== 'arn' || service !== 'sqs' || !partition || !region || !account || !name) throw new Error(`Not an SQS queue ARN: ${queueArn}`);
  const domain = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sqs.${region}.${domain}/${account}/${name}`;
}

/**
 * The longest the function waits for SQS to set a return: the batch's other records and its timeout come first, and a
 * record whose return was not set still comes back, after the visibility timeout.
 */
const RETURN_CALL_TIMEOUT_MS = 2000;

/** When a received message of the event door's buffer is delivered again. */
export class BufferVisibility {
  private readonly queueUrl: string;

  constructor(
    private readonly client: SQSClient,
    queueArn: string,
  ) {
    this.queueUrl = queueUrlOf(queueArn);
  }

  /**
   * The message this receipt handle belongs to becomes visible `seconds` from now, for this receive only (SQS API
   * reference, ChangeMessageVisibility: the new timeout counts from the call, and the next receive starts again from
   * the queue's visibility timeout). Throws as the SDK does; a caller must still leave the record undeleted.
   */
  async returnAfter(receiptHandle: string, seconds: number): Promise<void> {
    await this.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }), {
      abortSignal: AbortSignal.timeout(RETURN_CALL_TIMEOUT_MS),
    });
  }
}
