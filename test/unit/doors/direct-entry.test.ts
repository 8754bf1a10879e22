import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseInstanceArn } from '../../../lambda/domain/arn';
import type { ConnectInstance } from '../../../lambda/domain/arn';
import { TransferError } from '../../../lambda/domain/errors';
import { directEntry } from '../../../lambda/doors/direct';
import { slotDeadlineOf } from '../../../lambda/doors/door';
import { logger, metrics } from '../../../lambda/observability';
import type { TransferResult } from '../../../lambda/ports';
import type { TransferContactUseCase, TransferOutcome } from '../../../lambda/usecase/transfer-contact';
import { lambdaContext } from '../../../local/lambda-events';

const INSTANCE_ARN = 'arn:aws:connect:eu-west-1:123456789012:instance/11111111-1111-4111-8111-111111111111';
const instance = parseInstanceArn(INSTANCE_ARN) as ConnectInstance;
const toQueue = { ContactId: 'c-1', ContactFlowId: 'f-1', QueueId: 'q-1' };
const transferred: TransferResult = { ContactId: 'c-new', ContactArn: `${INSTANCE_ARN}/contact/c-new` };
const NOW = new Date('2030-01-01T10:00:00Z');

/** The direct door wired as lambda/gateway.ts wires it, in front of a use case that answers as told. */
function setUp(answer: () => Promise<TransferOutcome> = async () => ({ result: transferred, replayed: false, treeId: 'c-1' })) {
  const execute = vi.fn<TransferContactUseCase['execute']>(answer);
  return { execute, invoke: directEntry({ instance, useCase: { execute } }) };
}

const refused = (error: unknown) => async (): Promise<TransferOutcome> => {
  throw error;
};

/** What a failed direct invocation throws: Lambda reports its name as the errorType and its message as the errorMessage. */
const failureOf = (invocation: Promise<unknown>): Promise<unknown> => invocation.catch((caught: unknown) => caught);

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('a transfer through the direct door (lambda/doors/door.ts transferThrough)', () => {
  it('hands the use case the request as rules 1-3 resolved it, the invocation as who asked, and the latest pacing slot the invocation leaves time for', async () => {
    vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
    const { invoke, execute } = setUp();
    const context = lambdaContext(10_000);
    const answer = await invoke({ ...toQueue, QueueId: `${INSTANCE_ARN}/queue/q-1`, InstanceId: INSTANCE_ARN }, context);
    expect(answer).toStrictEqual(transferred);
    expect(execute).toHaveBeenCalledExactlyOnceWith(
      toQueue,
      { door: 'invoke', caller: 'invoke', correlationId: context.awsRequestId },
      // 10 s left, of which the last 3 s are kept for TransferContact's own retries and the records after it.
      { slotDeadline: NOW.getTime() + 7000 },
    );
  });

  it('tags the invocation\'s log lines with its request id and publishes its outcome metric', async () => {
    const { invoke } = setUp();
    const appendKeys = vi.spyOn(logger, 'appendKeys');
    const info = vi.spyOn(logger, 'info');
    const publish = vi.spyOn(metrics, 'publishStoredMetrics');
    const context = lambdaContext();
    await invoke(toQueue, context);
    expect(appendKeys).toHaveBeenCalledWith({ correlationId: context.awsRequestId });
    expect(info).toHaveBeenCalledWith('transfer', expect.objectContaining({ contactId: 'c-1', outcome: 'transferred', newContactId: 'c-new', trigger: 'invoke' }));
    expect(publish).toHaveBeenCalledOnce();
  });

  it('never reaches the use case with a payload rules 1-3 refuse, and fails the invocation as InvalidRequestException', async () => {
    const { invoke, execute } = setUp();
    const failure = await failureOf(invoke({ ...toQueue, Priority: 1 }, lambdaContext()));
    expect(failure).toMatchObject({ name: 'InvalidRequestException', message: expect.stringMatching(/^VALIDATION_FAILED: /) as unknown });
    expect(execute).not.toHaveBeenCalled();
  });

  it('fails the invocation with the reason a refusal names, logged as a rejection and not as an error', async () => {
    const { invoke } = setUp(refused(TransferError.of('CONTACT_NOT_ACTIVE')));
    const error = vi.spyOn(logger, 'error');
    const info = vi.spyOn(logger, 'info');
    const failure = await failureOf(invoke(toQueue, lambdaContext()));
    expect(failure).toMatchObject({ name: 'InvalidRequestException', message: expect.stringMatching(/^CONTACT_NOT_ACTIVE: The contact has ended/) as unknown });
    expect(info).toHaveBeenCalledWith('transfer', expect.objectContaining({ contactId: 'c-1', outcome: 'rejected', reason: 'CONTACT_NOT_ACTIVE', status: 400 }));
    expect(error).not.toHaveBeenCalled();
  });

  it('reports what went wrong inside as an internal error, with its cause on the error log for the operator and no empty metrics publish', async () => {
    const cause = new Error('ledger table unreachable');
    const { invoke } = setUp(refused(cause));
    const error = vi.spyOn(logger, 'error');
    const publish = vi.spyOn(metrics, 'publishStoredMetrics');
    const failure = await failureOf(invoke(toQueue, lambdaContext()));
    expect(failure).toMatchObject({ name: 'InternalServiceException', message: expect.not.stringContaining('ledger table unreachable') as unknown });
    expect(failure).toMatchObject({ message: expect.stringMatching(/^INTERNAL_ERROR: /) as unknown });
    expect(error).toHaveBeenCalledWith('transfer', expect.objectContaining({ contactId: 'c-1', outcome: 'failed', reason: 'INTERNAL_ERROR', error: cause }));
    // The failure's metric went out on its own; an empty publish would only log a warning.
    expect(publish).not.toHaveBeenCalled();
  });
});

describe('the latest pacing slot of an invocation', () => {
  it('is its end less the 3 s TransferContact and the records after it need', () => {
    vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
    expect(slotDeadlineOf({ getRemainingTimeInMillis: () => 60_000 } as Context)).toBe(NOW.getTime() + 57_000);
    expect(slotDeadlineOf({ getRemainingTimeInMillis: () => 2000 } as Context)).toBe(NOW.getTime() - 1000);
  });
});
