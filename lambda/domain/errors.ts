/**
 * The error model of contract section 5: every reason the gateway can answer with, its HTTP status and the
 * Connect error type a caller already knows how to handle.
 */
export const REASONS = {
  VALIDATION_FAILED: { status: 400, type: 'InvalidRequestException', message: 'The request does not match the TransferContact request shape.' },
  QUEUE_AND_USER_BOTH_SET: { status: 400, type: 'InvalidRequestException', message: 'QueueId and UserId cannot both be set; choose a queue or an agent.' },
  CHANNEL_NOT_SUPPORTED: { status: 400, type: 'InvalidRequestException', message: 'Only contacts of an allowed channel can be transferred.' },
  CONTACT_NOT_ACTIVE: { status: 400, type: 'InvalidRequestException', message: 'The contact has ended; only active contacts can be transferred.' },
  FLOW_TYPE_NOT_SUPPORTED: { status: 400, type: 'InvalidRequestException', message: 'The flow must be an Inbound, Transfer to agent or Transfer to queue flow.' },
  FLOW_NOT_ACTIVE: { status: 400, type: 'InvalidRequestException', message: 'The flow is archived or not published.' },
  FLOW_TARGET_MISMATCH: { status: 400, type: 'InvalidRequestException', message: 'A Transfer to agent flow needs a UserId and a Transfer to queue flow needs a QueueId.' },
  QUEUE_DISABLED: { status: 400, type: 'InvalidRequestException', message: 'The queue is disabled.' },
  TRANSFER_LIMIT_REACHED: { status: 402, type: 'ServiceQuotaExceededException', message: 'The contact has reached the maximum number of transfers.' },
  CONDITION_NOT_MET: { status: 409, type: 'ConditionalOperationFailedException', message: 'A condition of the request did not hold; nothing was transferred.' },
  INSTANCE_NOT_ALLOWED: { status: 403, type: 'AccessDeniedException', message: 'This gateway only transfers contacts of its own Amazon Connect instance.' },
  CONTACT_NOT_FOUND: { status: 404, type: 'ResourceNotFoundException', message: 'The contact does not exist in this instance.' },
  FLOW_NOT_FOUND: { status: 404, type: 'ResourceNotFoundException', message: 'The flow does not exist in this instance.' },
  QUEUE_NOT_FOUND: { status: 404, type: 'ResourceNotFoundException', message: 'The queue does not exist in this instance.' },
  USER_NOT_FOUND: { status: 404, type: 'ResourceNotFoundException', message: 'The user does not exist in this instance.' },
  REQUEST_IN_PROGRESS: { status: 409, type: 'IdempotencyException', message: 'A request with the same idempotency key is still in progress; retry later.' },
  CLIENT_TOKEN_REUSED: { status: 409, type: 'IdempotencyException', message: 'The idempotency key was already used with a different request.' },
  TRANSFER_IN_PROGRESS: { status: 409, type: 'ResourceConflictException', message: 'Another transfer of this contact is in progress; retry once it has settled.' },
  SCHEDULE_ALREADY_FIRED: { status: 409, type: 'ResourceConflictException', message: 'The schedule has already fired; it can no longer be cancelled.' },
  SCHEDULE_LIMIT_REACHED: { status: 409, type: 'ResourceConflictException', message: 'The contact already has the most schedules waiting that it may have (10); cancel one first.' },
  SCHEDULE_NOT_FOUND: { status: 404, type: 'ResourceNotFoundException', message: 'No such schedule.' },
  THROTTLED: { status: 429, type: 'ThrottlingException', message: 'Amazon Connect is throttling requests; retry later.' },
  UPSTREAM_FAILURE: { status: 500, type: 'InternalServiceException', message: 'Amazon Connect failed or could not be reached; retry later.' },
  INTERNAL_ERROR: { status: 500, type: 'InternalServiceException', message: 'The gateway failed internally; nothing was transferred.' },
} as const satisfies Record<string, { status: number; type: string; message: string }>;

export type KnownReason = keyof typeof REASONS;
export type Reason = KnownReason | 'CONNECT_REJECTED';

/** Whether the same request may succeed later (contract 3.2): the EventBridge door retries these, and they count as failures. */
function isRetryable(reason: Reason, status: number): boolean {
  return status >= 500 || status === 429 || reason === 'REQUEST_IN_PROGRESS' || reason === 'TRANSFER_IN_PROGRESS';
}

/**
 * The reasons reported as failed rather than rejected. CONNECT_REJECTED never is: Connect's throttles and 5xx map to
 * THROTTLED and UPSTREAM_FAILURE.
 */
export const FAILURE_REASONS = (Object.keys(REASONS) as KnownReason[]).filter((reason) => isRetryable(reason, REASONS[reason].status));

export interface FieldError {
  readonly Field: string;
  readonly Message: string;
}

/** What every door renders: HTTP status, Connect type, reason and one human sentence. */
export class TransferError extends Error {
  readonly status: number;
  readonly type: string;

  private constructor(
    readonly reason: Reason,
    status: number,
    type: string,
    message: string,
    readonly fields?: readonly FieldError[],
    options?: { cause?: unknown },
    /** The gateway's own pacer turned the request away before anything was sent: Connect itself was not asked. */
    readonly pacedOut = false,
  ) {
    super(message, options);
    this.name = 'TransferError';
    this.status = status;
    this.type = type;
  }

  static of(reason: KnownReason, detail?: { message?: string; fields?: readonly FieldError[]; cause?: unknown }): TransferError {
    const { status, type, message } = REASONS[reason];
    return new TransferError(reason, status, type, detail?.message ?? message, detail?.fields, { cause: detail?.cause });
  }

  /** Connect refused a request our rules let through: pass its own status and type on. */
  static connectRejected(status: number, type: string, message: string, cause?: unknown): TransferError {
    return new TransferError('CONNECT_REJECTED', status, type, message || 'Amazon Connect rejected the transfer.', undefined, { cause });
  }

  /**
   * The gateway's share of Connect's TransferContact quota is taken until past the latest moment this request could
   * still call Connect: THROTTLED to the caller, and nothing was sent.
   */
  static pacedOut(): TransferError {
    const { status, type } = REASONS.THROTTLED;
    const message = "The gateway's share of Amazon Connect's TransferContact quota is taken for longer than this request can wait; retry later.";
    return new TransferError('THROTTLED', status, type, message, undefined, undefined, true);
  }

  get retryable(): boolean {
    return isRetryable(this.reason, this.status);
  }
}
