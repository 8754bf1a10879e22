import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleGateway } from '../../lib/gateway-bundle';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { failureKeys } from '../../lambda/adapters/failure-records';
import { scheduledEvent } from '../../local/lambda-events';
import { answerOf, DOOR_REPORTS, DOORS, eventFor, handlerExportOf, RETURNED_TO_BUFFER } from '../support/doors';
import type { DoorAnswer, DoorName } from '../support/doors';
import { connectFixtures } from '../support/fixtures';
import { ledgerItems, startGatewayHarness, TEST_BUFFER_ARN, TEST_TRANSFER_RULE_ARN } from '../support/gateway-harness';
import type { GatewayHarness } from '../support/gateway-harness';
import { gatewayRequests, startInterposer } from '../support/interposer';
import type { HeldAnswer, Interposer } from '../support/interposer';
import { buildFunctionRunner, startFunctionProcess } from '../support/function-process';
import type { FunctionProcess } from '../support/function-process';

/**
 * Contract section 6, the hard way: the deployable bundle runs in a child process, which is killed with SIGKILL at
 * each point of a transfer. Proxies in front of DynamoDB and the Connect simulator see each request from outside
 * and hold its answer after it took effect, so the kill lands exactly after that point. A fresh child then
 * retries the same event, as a caller or Lambda's retry would once the in-progress record has expired.
 */
const DEAD_LETTERS_ARN = 'arn:aws:sqs:us-east-1:111122223333:test-dead-letters';
const SWEEP_RULE_ARN = 'arn:aws:events:us-east-1:111122223333:rule/test-sweep';
let harness: GatewayHarness;
let fx: ReturnType<typeof connectFixtures>;
let workDir: string;
let runner: string;
let bundle: string;
const running = new Set<FunctionProcess>();

beforeAll(async () => {
  // The backstops' doors too (the last describe): a sweep may take any PENDING intent at once; the lock guards it.
  harness = await startGatewayHarness({ env: { EVENT_DEAD_LETTER_QUEUE_ARN: DEAD_LETTERS_ARN, TRANSFER_RULE_ARN: TEST_TRANSFER_RULE_ARN, SWEEP_RULE_ARN, SWEEP_AFTER_SECONDS: '0' } });
  fx = connectFixtures(harness.connect);
  workDir = mkdtempSync(join(tmpdir(), 'crash-test-'));
  await bundleGateway(workDir);
  bundle = join(workDir, 'index.js');
  runner = await buildFunctionRunner(workDir);
}, 60_000);

afterAll(async () => {
  await Promise.all([...running].map((fn) => fn.kill()));
  await harness?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/**
 * Runs `invoke` in a cold container behind proxies in front of DynamoDB and the simulator, and kills it with SIGKILL
 * the moment `point` is reached; `invoke` throws when the invocation ends without reaching it.
 */
async function killWhenReached(point: CrashPoint, contactId: string, invoke: (victim: FunctionProcess) => Promise<never>, exported = 'handler'): Promise<void> {
  const proxies = { dynamodb: await startInterposer(harness.dynamodb.url), connect: await startInterposer(harness.connect.url) };
  try {
    const victim = await startFunction({ connect: proxies.connect.url, dynamodb: proxies.dynamodb.url }, exported);
    const reached = point.reached(proxies, contactId);
    try {
      await Promise.race([reached, invoke(victim)]);
    } finally {
      await victim.kill();
    }
  } finally {
    await Promise.all([proxies.dynamodb.close(), proxies.connect.close()]);
  }
}

/** A cold container of the function that `exported` names, in its own process; its SDK clients go wherever `endpoints` say. */
async function startFunction(endpoints: { connect: string; dynamodb: string }, exported = 'handler'): Promise<FunctionProcess> {
  const started = await startFunctionProcess(
    runner,
    bundle,
    {
      ...harness.env,
      AWS_ENDPOINT_URL_CONNECT: endpoints.connect,
      AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    },
    exported,
  );
  running.add(started);
  return started;
}

interface CrashPoint {
  readonly name: string;
  /** Whether Connect had accepted the transfer when the function died, so the retry's answer is a replay. */
  readonly connectAccepted: boolean;
  reached(proxies: { readonly dynamodb: Interposer; readonly connect: Interposer }, contactId: string): Promise<HeldAnswer>;
}

const CRASH_POINTS: readonly CrashPoint[] = [
  {
    name: 'after the idempotency lock',
    connectAccepted: false,
    reached: ({ dynamodb }) => dynamodb.hold(gatewayRequests.idempotencyLock(harness.config.idempotencyTable)),
  },
  {
    name: 'after the transfer was reserved in the ledger',
    connectAccepted: false,
    reached: ({ dynamodb }) => dynamodb.hold(gatewayRequests.ledgerReservation(harness.config.ledgerTable)),
  },
  {
    name: 'after Connect accepted the transfer',
    connectAccepted: true,
    reached: ({ connect }, contactId) => connect.hold(gatewayRequests.transferContact(contactId)),
  },
  {
    name: 'after the ledger recorded the transfer',
    connectAccepted: true,
    reached: ({ dynamodb }) => dynamodb.hold(gatewayRequests.ledgerRecord(harness.config.ledgerTable)),
  },
];

/**
 * The victim's in-progress record expires this long after its lock, as a timed-out invocation's would. Longer than
 * the time the gateway keeps free after its pacing slot (AFTER_SLOT_MS, 3 s), or a victim that has to wait for a
 * slot among 32 concurrent ones answers 429 before it reaches the point where it is to be killed.
 */
const VICTIM_REMAINING_MS = 4000;

/**
 * Retries as a caller would: REQUEST_IN_PROGRESS means the dead invocation's record has not expired yet, and a record
 * the buffered door returned to the buffer is what SQS delivers again once its visibility timeout has passed.
 */
async function retryUntilSettled(fn: FunctionProcess, door: DoorName, event: unknown): Promise<DoorAnswer> {
  for (let attempt = 0; ; attempt += 1) {
    const answer = answerOf(door, await fn.invoke(event, 10_000));
    if ((answer.reason !== 'REQUEST_IN_PROGRESS' && answer.reason !== RETURNED_TO_BUFFER) || attempt >= 60) return answer;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

const treeItems = (treeId: string) => ledgerItems(harness, `TREE#${treeId}`);

describe('SIGKILL at each point of a transfer, then a retry in a fresh process (contract section 6)', () => {
  it('every point, every door, with and without a ClientToken: one transfer at Connect, the original result, the ledger record', async () => {
    const scenarios = CRASH_POINTS.flatMap((point) => DOORS.flatMap((door) => [true, false].map((withToken) => ({ point, door, withToken }))));

    // Every victim runs its own proxies, so each kill lands on its own request.
    const killed = await Promise.all(
      scenarios.map(async (scenario) => {
        const request: Record<string, string> = {
          ContactId: fx.contact(),
          ContactFlowId: fx.flows.inbound,
          QueueId: fx.queues.enabled,
          ...(scenario.withToken && { ClientToken: randomUUID() }),
        };
        const event = eventFor(scenario.door, request);
        // 32 victims share one pacer: one may be paced out (429, or its record returned) before its point, and is
        // retried as its caller or SQS would retry it.
        await killWhenReached(scenario.point, request.ContactId ?? '', async (victim) => {
          for (let tries = 1; ; tries += 1) {
            const outcome = await victim.invoke(event, VICTIM_REMAINING_MS);
            const { reason } = answerOf(scenario.door, outcome);
            if ((reason !== 'THROTTLED' && reason !== RETURNED_TO_BUFFER) || tries >= 10) {
              throw new Error(`${scenario.point.name} was never reached; the invocation ended with ${JSON.stringify(outcome)}`);
            }
          }
        }, handlerExportOf(scenario.door));
        return { ...scenario, request, event };
      }),
    );

    const endpoints = { connect: harness.connect.url, dynamodb: harness.dynamodb.url };
    const survivors = { handler: await startFunction(endpoints), invoke: await startFunction(endpoints, 'invoke') };
    const retried = await Promise.all(
      killed.map(async (scenario) => ({ ...scenario, answer: await retryUntilSettled(survivors[handlerExportOf(scenario.door)], scenario.door, scenario.event) })),
    );
    await Promise.all([survivors.handler.kill(), survivors.invoke.kill()]);

    for (const { point, door, withToken, request, answer } of retried) {
      const label = `killed ${point.name}, ${door}, ${withToken ? 'with' : 'without'} a ClientToken`;
      const contactId = request.ContactId ?? '';
      const accepted = harness.connect.calls('TransferContact').filter((c) => c.input.ContactId === contactId && c.status === 200 && !c.tokenReplay);
      expect(accepted, label).toHaveLength(1);
      const made = accepted[0]?.output as { ContactId: string; ContactArn: string };
      // The buffered door tells the mapping only that the record is done; the others answer with the transfer.
      expect(answer, label).toMatchObject({ ok: true, ...(DOOR_REPORTS[door].result && made) });
      // The direct and buffered doors do not say whether the answer is a replay; the others do.
      if (DOOR_REPORTS[door].replay) expect(answer.replayed, label).toBe(point.connectAccepted);
      // A victim paced out before its kill point released the slot it had reserved (nothing was sent) and took the
      // next one when retried; whatever else, the tree holds one transfer.
      const items = await treeItems(contactId);
      expect(items.filter((item) => item.status !== 'RELEASED'), label).toEqual([
        expect.objectContaining({ status: 'TRANSFERRED', fromContactId: contactId, toContactId: made.ContactId }),
      ]);
      for (const released of items.filter((item) => item.status === 'RELEASED')) expect(released, label).toMatchObject({ releaseReason: 'THROTTLED' });
    }
  }, 60_000);
});

describe('SIGKILL on the last receive of a buffered event, then the backstops (contract section 9)', () => {
  it('each point ends with one outcome: no transfer and one failure record, or one transfer recorded and no failure record', async () => {
    const killed = await Promise.all(
      CRASH_POINTS.map(async (point) => {
        const request = { ContactId: fx.contact(), ContactFlowId: fx.flows.inbound, QueueId: fx.queues.enabled, ClientToken: randomUUID() };
        const delivered = eventFor('buffered', request) as SQSEvent;
        const [record] = delivered.Records as [SQSRecord];
        // The 31st receive: SQS moves the message to the dead-letter queue when it is not deleted this time.
        const lastReceive = { Records: [{ ...record, attributes: { ...record.attributes, ApproximateReceiveCount: harness.env.EVENT_MAX_RECEIVES ?? '31' } }] };
        await killWhenReached(point, request.ContactId, async (victim) => {
          const outcome = await victim.invoke(lastReceive, VICTIM_REMAINING_MS);
          throw new Error(`${point.name} was never reached; the invocation ended with ${JSON.stringify(outcome)}`);
        });
        // What SQS's redrive puts in the dead-letter queue: the same body, now a record of that queue naming the buffer.
        const deadLetter: SQSRecord = {
          ...record,
          messageId: randomUUID(),
          eventSourceARN: DEAD_LETTERS_ARN,
          attributes: { ...record.attributes, DeadLetterQueueSourceArn: TEST_BUFFER_ARN },
        };
        const eventId = (JSON.parse(record.body) as { id: string }).id;
        return { point, request, deadLetter, eventId };
      }),
    );

    // The dead-letter door's mapping delivers each dead letter until it is answered; the schedule sweeps meanwhile.
    const survivor = await startFunction({ connect: harness.connect.url, dynamodb: harness.dynamodb.url });
    const sweep = scheduledEvent(SWEEP_RULE_ARN, harness.config.doors.account);
    await Promise.all(
      killed.map(async ({ point, deadLetter }) => {
        for (let attempt = 0; ; attempt += 1) {
          const outcome = await survivor.invoke({ Records: [deadLetter] }, 10_000);
          if (!outcome.error && ((outcome.result as SQSBatchResponse | undefined)?.batchItemFailures ?? []).length === 0) return;
          if (attempt >= 60) throw new Error(`the dead letter of a victim killed ${point.name} was never answered`);
          await survivor.invoke(sweep, 10_000);
          await new Promise((resolve) => setTimeout(resolve, 150));
        }
      }),
    );
    // Sweeps until no intent is held: a slot left PENDING by a victim whose dead letter was answered as a failure is
    // released once the victim's in-progress record has expired.
    for (let attempt = 0; ; attempt += 1) {
      const { result } = await survivor.invoke(sweep, 10_000);
      if ((result as { 'in-progress'?: number } | undefined)?.['in-progress'] === 0 || attempt >= 60) break;
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    await survivor.kill();

    for (const { point, request, eventId } of killed) {
      const label = `killed ${point.name}`;
      const accepted = harness.connect.calls('TransferContact').filter((c) => c.input.ContactId === request.ContactId && c.status === 200 && !c.tokenReplay);
      const failure = await ledgerItems(harness, failureKeys(eventId).pk ?? '');
      const slots = await treeItems(request.ContactId);
      if (point.connectAccepted) {
        expect(accepted, label).toHaveLength(1);
        expect(slots, label).toEqual([expect.objectContaining({ status: 'TRANSFERRED' })]);
        expect(failure, label).toEqual([]);
      } else {
        expect(accepted, label).toHaveLength(0);
        expect(failure, label).toEqual([expect.objectContaining({ status: 'DEAD_LETTERED', reason: 'INTERNAL_ERROR' })]);
        // Nothing stays PENDING: a reserved slot whose transfer never happened no longer counts toward maxTransfers.
        for (const slot of slots) expect(slot.status, label).toBe('RELEASED');
      }
    }
  }, 60_000);
});
