import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, Context, SQSEvent } from 'aws-lambda';
import { SCHEDULE_RESOURCE, SCHEDULES_RESOURCE } from '../../lambda/domain/schedule';
import { apiGatewayProxyEvent } from '../../local/lambda-events';
import { SchedulerModel, startSchedulerEndpoint } from '../../local/scheduler-endpoint';
import type { SchedulerEndpoint } from '../../local/scheduler-endpoint';
import { asHttp, lambdaContext, startGatewayHarness, TEST_BUFFER_ARN, TEST_TRANSFER_RULE_ARN } from './gateway-harness';
import type { GatewayHarness, HttpAnswer } from './gateway-harness';

const CALLER_ARN = 'arn:aws:sts::111122223333:assumed-role/escalations/app';

/**
 * A clock a test moves: the local scheduler model fires by it, and nothing sleeps. It runs `ahead` of the wall clock
 * the gateway reads, so "a minute from now" means the same to both.
 */
export class TestClock {
  private aheadMs = 0;
  now = (): number => Date.now() + this.aheadMs;
  setAhead(ms: number): void {
    this.aheadMs = ms;
  }
}

/** The harness with scheduled transfers configured, against the local scheduler model behind its HTTP front. */
export interface ScheduleHarness {
  readonly harness: GatewayHarness;
  readonly scheduler: SchedulerModel;
  readonly clock: TestClock;
  /** Messages the scheduler model sent to the buffer, oldest first. */
  readonly fired: string[];
  close(): Promise<void>;
}

export async function startScheduleHarness(): Promise<ScheduleHarness> {
  const clock = new TestClock();
  const fired: string[] = [];
  const scheduler = new SchedulerModel((targetArn, input) => {
    if (targetArn !== TEST_BUFFER_ARN) throw new Error(`A schedule aimed at ${targetArn}, not the buffer`);
    fired.push(input);
  }, clock);
  const endpoint: SchedulerEndpoint = await startSchedulerEndpoint(scheduler);
  const harness = await startGatewayHarness({ env: scheduleEnvironment(endpoint.url, randomUUID().slice(0, 8)) });
  return {
    harness,
    scheduler,
    clock,
    fired,
    close: async () => {
      await Promise.all([harness.close(), endpoint.close()]);
    },
  };
}

/** What the stack sets for scheduled transfers, the schedules aimed at the harness's buffer. */
export function scheduleEnvironment(schedulerUrl: string, suffix: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_SCHEDULER: schedulerUrl,
    SCHEDULES_TABLE: `schedules-${suffix}`,
    SCHEDULE_GROUP_NAME: 'contact-transfer-gateway',
    SCHEDULER_ROLE_ARN: 'arn:aws:iam::111122223333:role/contact-transfer-scheduler',
    SCHEDULE_TARGET_ARN: TEST_BUFFER_ARN,
    SCHEDULE_DEAD_LETTER_ARN: 'arn:aws:sqs:us-east-1:111122223333:schedule-dead-letters',
    EVENT_DEAD_LETTER_QUEUE_ARN: TEST_DEAD_LETTER_ARN,
    TRANSFER_RULE_ARN: TEST_TRANSFER_RULE_ARN,
  };
}

/** An API Gateway event of a schedule route, as the stack's REST API builds it. */
export function scheduleEvent(method: string, options: { body?: unknown; scheduleId?: string; query?: Record<string, string>; headers?: Record<string, string> } = {}): APIGatewayProxyEvent {
  const { scheduleId } = options;
  return apiGatewayProxyEvent({
    body: options.body === undefined ? null : JSON.stringify(options.body),
    headers: { 'Content-Type': 'application/json', ...options.headers },
    callerArn: CALLER_ARN,
    route:
      scheduleId === undefined
        ? { method, resource: SCHEDULES_RESOURCE, path: SCHEDULES_RESOURCE, pathParameters: {}, ...(options.query && { query: options.query }) }
        : { method, resource: SCHEDULE_RESOURCE, path: `${SCHEDULES_RESOURCE}/${scheduleId}`, pathParameters: { ScheduleId: scheduleId } },
  });
}

/** A 204 has no body to read as JSON. */
export function asScheduleAnswer(result: unknown): HttpAnswer {
  const { statusCode, body } = result as { statusCode: number; body: string };
  return body === '' ? { status: statusCode, headers: {}, body: {} } : asHttp(result);
}

/** The dead-letter queue the buffer redrives to, as the stack names it to the function. */
export const TEST_DEAD_LETTER_ARN = 'arn:aws:sqs:us-east-1:111122223333:test-dead-letters';

/** The buffer's message as the event source mapping hands it over; `deadLettered`, as SQS redrives it after its last receive. */
export function bufferRecord(body: string, { deadLettered = false } = {}): SQSEvent {
  const redrive = deadLettered ? { DeadLetterQueueSourceArn: TEST_BUFFER_ARN } : {};
  return {
    Records: [
      {
        messageId: randomUUID(),
        receiptHandle: randomUUID(),
        body,
        attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'AROASCHEDULER', ApproximateFirstReceiveTimestamp: String(Date.now()), ...redrive },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: deadLettered ? TEST_DEAD_LETTER_ARN : TEST_BUFFER_ARN,
        awsRegion: 'us-east-1',
      },
    ],
  };
}

export const context = (): Context => lambdaContext();
