import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SqsModelError } from './buffered-delivery';
import type { QueueModel } from './buffered-delivery';

/**
 * A small HTTP front on the queue models that speaks SQS's JSON protocol for the one operation the function calls,
 * ChangeMessageVisibility, so the function's own SDK client reaches the model by endpoint, as it reaches SQS. The SDK
 * (@aws-sdk/client-sqs 3.1136.0, AwsJson1_0Protocol) posts `application/x-amz-json-1.0` with `x-amz-target:
 * AmazonSQS.ChangeMessageVisibility`; errors are a 400 with `__type` and, SQS being query-compatible, the
 * `x-amzn-query-error` header the SDK reads the error code from. Signatures are not checked.
 */
export interface SqsEndpoint {
  readonly url: string;
  /** While true, every call is refused with AccessDenied, as SQS does without the permission. */
  refuse: boolean;
  /** Calls answered, refused ones included. */
  readonly calls: number;
  close(): Promise<void>;
}

const TARGET = 'AmazonSQS.ChangeMessageVisibility';

export async function startSqsEndpoint(queues: readonly QueueModel[]): Promise<SqsEndpoint> {
  let calls = 0;
  const state = { refuse: false };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      calls += 1;
      const answer = (status: number, body: object, code?: string) => {
        response.writeHead(status, {
          'content-type': 'application/x-amz-json-1.0',
          ...(code && { 'x-amzn-query-error': `${code};Sender` }),
        });
        response.end(JSON.stringify(body));
      };
      const fail = (code: string, message: string) => answer(400, { __type: `com.amazonaws.sqs#${code}`, message }, code);
      if (request.headers['x-amz-target'] !== TARGET) return fail('UnsupportedOperation', `Only ${TARGET} is served here.`);
      if (state.refuse) return fail('AccessDenied', 'The function is not allowed sqs:ChangeMessageVisibility on this queue.');
      let input: { QueueUrl?: unknown; ReceiptHandle?: unknown; VisibilityTimeout?: unknown };
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof input;
      } catch {
        return fail('InvalidParameterValue', 'The request body is not JSON.');
      }
      const name = typeof input.QueueUrl === 'string' ? input.QueueUrl.split('/').pop() : undefined;
      const queue = queues.find((candidate) => candidate.name === name);
      if (!queue) return fail('QueueDoesNotExist', 'The specified queue does not exist.');
      if (typeof input.ReceiptHandle !== 'string' || typeof input.VisibilityTimeout !== 'number') return fail('MissingParameter', 'ReceiptHandle and VisibilityTimeout are required.');
      try {
        queue.changeVisibility(input.ReceiptHandle, input.VisibilityTimeout);
      } catch (error) {
        if (error instanceof SqsModelError) return fail(error.code, error.message);
        throw error;
      }
      return answer(200, {});
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get refuse() {
      return state.refuse;
    },
    set refuse(value: boolean) {
      state.refuse = value;
    },
    get calls() {
      return calls;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
