import { describe, expect, it } from 'vitest';
import { FAILURE_REASONS, REASONS, TransferError } from '../../../lambda/domain/errors';
import type { KnownReason } from '../../../lambda/domain/errors';

/** Contract section 5, written out from the contract's table. */
const CONTRACT: Record<KnownReason, readonly [number, string]> = {
  VALIDATION_FAILED: [400, 'InvalidRequestException'],
  QUEUE_AND_USER_BOTH_SET: [400, 'InvalidRequestException'],
  CHANNEL_NOT_SUPPORTED: [400, 'InvalidRequestException'],
  CONTACT_NOT_ACTIVE: [400, 'InvalidRequestException'],
  FLOW_TYPE_NOT_SUPPORTED: [400, 'InvalidRequestException'],
  FLOW_NOT_ACTIVE: [400, 'InvalidRequestException'],
  FLOW_TARGET_MISMATCH: [400, 'InvalidRequestException'],
  QUEUE_DISABLED: [400, 'InvalidRequestException'],
  TRANSFER_LIMIT_REACHED: [402, 'ServiceQuotaExceededException'],
  CONDITION_NOT_MET: [409, 'ConditionalOperationFailedException'],
  INSTANCE_NOT_ALLOWED: [403, 'AccessDeniedException'],
  CONTACT_NOT_FOUND: [404, 'ResourceNotFoundException'],
  FLOW_NOT_FOUND: [404, 'ResourceNotFoundException'],
  QUEUE_NOT_FOUND: [404, 'ResourceNotFoundException'],
  USER_NOT_FOUND: [404, 'ResourceNotFoundException'],
  REQUEST_IN_PROGRESS: [409, 'IdempotencyException'],
  CLIENT_TOKEN_REUSED: [409, 'IdempotencyException'],
  TRANSFER_IN_PROGRESS: [409, 'ResourceConflictException'],
  SCHEDULE_ALREADY_FIRED: [409, 'ResourceConflictException'],
  SCHEDULE_LIMIT_REACHED: [409, 'ResourceConflictException'],
  SCHEDULE_NOT_FOUND: [404, 'ResourceNotFoundException'],
  THROTTLED: [429, 'ThrottlingException'],
  UPSTREAM_FAILURE: [500, 'InternalServiceException'],
  INTERNAL_ERROR: [500, 'InternalServiceException'],
};

const RETRYABLE = new Set<KnownReason>(['REQUEST_IN_PROGRESS', 'TRANSFER_IN_PROGRESS', 'THROTTLED', 'UPSTREAM_FAILURE', 'INTERNAL_ERROR']);

describe('the error model of contract section 5', () => {
  it('knows exactly the reasons of the contract', () => {
    expect(Object.keys(REASONS).sort()).toEqual(Object.keys(CONTRACT).sort());
  });

  it.each(Object.entries(CONTRACT) as [KnownReason, readonly [number, string]][])('%s is HTTP %s %s', (reason, [status, type]) => {
    expect(REASONS[reason]).toMatchObject({ status, type });
    const error = TransferError.of(reason);
    expect(error).toMatchObject({ reason, status, type });
    expect(error).toBeInstanceOf(Error);
  });

  it.each(Object.keys(CONTRACT) as KnownReason[])('%s has one human sentence as its default message', (reason) => {
    const { message } = TransferError.of(reason);
    expect(message).toMatch(/^[A-Z].*\.$/);
    expect(message).not.toContain('\n');
  });

  it.each(Object.keys(CONTRACT) as KnownReason[])('%s is retryable exactly when the contract lets a retry fix it', (reason) => {
    expect(TransferError.of(reason).retryable).toBe(RETRYABLE.has(reason));
  });

  it('a caller-supplied message and fields are kept', () => {
    const error = TransferError.of('VALIDATION_FAILED', { message: 'Bad.', fields: [{ Field: 'ContactId', Message: 'is required' }] });
    expect(error.message).toBe('Bad.');
    expect(error.fields).toEqual([{ Field: 'ContactId', Message: 'is required' }]);
  });
});

describe('CONNECT_REJECTED carries what Connect answered', () => {
  it.each<[number, string, boolean]>([
    [400, 'InvalidRequestException', false],
    [402, 'ServiceQuotaExceededException', false],
    [403, 'AccessDeniedException', false],
    [404, 'ResourceNotFoundException', false],
    [409, 'IdempotencyException', false],
    [429, 'TooManyRequestsException', true],
    [500, 'InternalServiceException', true],
    [503, 'ServiceUnavailableException', true],
  ])('status %i %s, retryable=%s', (status, type, retryable) => {
    const error = TransferError.connectRejected(status, type, 'Connect said no.');
    expect(error).toMatchObject({ reason: 'CONNECT_REJECTED', status, type, message: 'Connect said no.', retryable });
  });

  it('an empty Connect message still gives the caller a sentence', () => {
    expect(TransferError.connectRejected(400, 'InvalidRequestException', '').message).toMatch(/rejected the transfer/);
  });
});

describe('what an operator sees of a failure', () => {
  it("Connect's own error stays attached to a refusal, so the log shows what Connect said", () => {
    const cause = new Error('ResourceNotFoundException from Connect');
    expect(TransferError.connectRejected(404, 'ResourceNotFoundException', 'gone', cause).cause).toBe(cause);
  });
});

describe('what an operator sees of a failure: names, alarms and the pacer', () => {
  it('a TransferError is logged under its own name', () => {
    const error = TransferError.of('QUEUE_DISABLED');
    expect(error.name).toBe('TransferError');
    expect(String(error)).toBe('TransferError: The queue is disabled.');
  });

  it('the failures the alarms count are exactly the retryable reasons of the contract', () => {
    expect([...FAILURE_REASONS].sort()).toEqual([...RETRYABLE].sort());
  });

  it("the gateway's own pacer answers THROTTLED, says Connect was not asked, and is retried", () => {
    const error = TransferError.pacedOut();
    expect(error).toMatchObject({ reason: 'THROTTLED', status: 429, type: 'ThrottlingException', pacedOut: true, retryable: true });
    expect(error.message).toBe("The gateway's share of Amazon Connect's TransferContact quota is taken for longer than this request can wait; retry later.");
  });

  it("a THROTTLED from Connect itself, or any other refusal, is not the pacer's", () => {
    expect(TransferError.of('THROTTLED').pacedOut).toBe(false);
    expect(TransferError.connectRejected(429, 'TooManyRequestsException', 'slow down').pacedOut).toBe(false);
  });
});
