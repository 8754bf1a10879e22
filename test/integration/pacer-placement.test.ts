import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import { asHttp, httpEvent, lambdaContext } from '../support/gateway-harness';
import type { HttpAnswer } from '../support/gateway-harness';
import { gatewayTest } from '../support/gateway-test';

/**
 * Issue 21's placement of the pacer, end to end over real HTTP: only a request about to call TransferContact takes a
 * slot, after the idempotency lock and the rules, so requests that never reach Connect (duplicates, rejections)
 * cannot refuse a real transfer. The deployed pacing (2 a second, burst 2). Wall time on a shared machine is mostly
 * contention, so the latency bound (within one pacing interval) is asserted with a fake clock in
 * test/unit/usecase/use-case.test.ts.
 */
const PACING = { TRANSFER_RATE_PER_SECOND: '2', TRANSFER_BURST: '2' };
const TOGETHER = 50;
const it = gatewayTest({ env: PACING });

const timed = async (answer: Promise<HttpAnswer>): Promise<{ answer: HttpAnswer; ms: number }> => {
  const started = performance.now();
  const settled = await answer;
  return { answer: settled, ms: performance.now() - started };
};

describe('requests that never call Connect take no pacing slot (issue 21)', () => {
  it(`a fresh transfer arriving with ${TOGETHER} duplicates of another request is transferred, not paced out, and they cost Connect nothing`, async ({ harness, queueTransfer }) => {
    const containers = Array.from({ length: 5 }, () => harness.newContainer());
    const post = (body: unknown, headers?: Record<string, string>, container = 0) =>
      timed(containers[container % containers.length]!(httpEvent(body, headers), lambdaContext()).then(asHttp));
    await harness.resetPacer();
    const duplicated = queueTransfer();
    const key = { 'Idempotency-Key': randomUUID() };
    const duplicates = Array.from({ length: TOGETHER }, (_, index) => post(duplicated, key, index));
    const fresh = await post(queueTransfer());
    const answers = await Promise.all(duplicates);

    expect(fresh.answer.status).toBe(200);
    // The duplicates were answered as duplicates (one transfer, the rest in progress or replayed), not paced out.
    expect(answers.filter(({ answer }) => answer.status === 429)).toEqual([]);
    expect(harness.connect.calls('TransferContact').filter((call) => call.input.ContactId === duplicated.ContactId)).toHaveLength(1);
  });

  it(`a fresh transfer arriving with ${TOGETHER} rejections is transferred, not paced out, and they cost Connect nothing`, async ({ harness, fx, queueTransfer }) => {
    const containers = Array.from({ length: 5 }, () => harness.newContainer());
    const post = (body: unknown, container = 0) => timed(containers[container % containers.length]!(httpEvent(body), lambdaContext()).then(asHttp));
    await harness.resetPacer();
    const transfersBefore = harness.connect.callCount('TransferContact');
    const rejections = Array.from({ length: TOGETHER }, (_, index) => post({ ...queueTransfer(), ContactId: fx.contact('TASK', true) }, index));
    const fresh = await post(queueTransfer());
    const answers = await Promise.all(rejections);

    expect(fresh.answer.status).toBe(200);
    expect(answers.map(({ answer }) => answer.body.ReasonCode)).toEqual(Array.from({ length: TOGETHER }, () => 'CONTACT_NOT_ACTIVE'));
    expect(harness.connect.callCount('TransferContact')).toBe(transfersBefore + 1);
  });
});
