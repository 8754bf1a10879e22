import { TransferError } from './errors';
import type { FieldError } from './errors';
import { parseHistoryQuery } from './history';
import type { HistoryQuery } from './history';
import { idempotencyKeysOf, sha256 } from './idempotency-keys';
import { parseTransferRequest } from './request';
import type { TransferRequest } from './request';
import type { ConnectInstance } from './arn';

/** The API resources of contract section 12; the stack builds the routes from them. */
export const SCHEDULES_RESOURCE = '/contact/transfer/schedules';
export const SCHEDULE_RESOURCE = '/contact/transfer/schedules/{ScheduleId}';

/** How far ahead a schedule may fire: at least a minute, at most 30 days (contract section 12). */
export const SCHEDULE_AHEAD_SECONDS = { min: 60, max: 2_592_000 } as const;
/** Schedules one contact may have SCHEDULED at once (contract section 12). */
export const MAX_SCHEDULED_PER_CONTACT = 10;

/** `sch-` and 32 lowercase hex characters: a valid EventBridge Scheduler schedule name, and nothing else is one of ours. */
export const SCHEDULE_ID = /^sch-[0-9a-f]{32}$/;

export const SCHEDULE_STATES = ['SCHEDULED', 'CANCELLED', 'FIRED'] as const;
export type ScheduleState = (typeof SCHEDULE_STATES)[number];

/** A fired schedule as its message names it: the ScheduleId, and the write of its state the schedule was made for. */
export interface FiredSchedule {
  readonly scheduleId: string;
  /** The state's CreatedAt when the schedule was made; a message without it names whichever state holds the id. */
  readonly createdAt?: string;
}

export type ScheduleOutcome =
  | { readonly Result: 'TRANSFERRED'; readonly ContactId: string; readonly ContactArn: string }
  | { readonly Result: 'SKIPPED'; readonly ReasonCode: 'CONDITION_NOT_MET'; readonly Message: string }
  | { readonly Result: 'FAILED'; readonly ReasonCode: string; readonly Type: string; readonly Message: string };

/** A schedule as the API answers it. */
export interface Schedule {
  readonly ScheduleId: string;
  readonly ContactId: string;
  readonly At: string;
  readonly State: ScheduleState;
  readonly CreatedAt: string;
  /** The section-2 request as accepted (ids resolved), without its timing. */
  readonly Request: TransferRequest;
  readonly Outcome?: ScheduleOutcome;
  readonly FiredAt?: string;
  readonly CancelledAt?: string;
}

/** A schedule as stored: what the API answers, who created it and what its idempotency key is bound to. */
export interface StoredSchedule extends Schedule {
  readonly createdBy: string;
  readonly payloadHash: string;
  /**
   * Set while the scheduler may not hold the schedule yet: from the write that creates the state until its create saw
   * CreateSchedule succeed. A SCHEDULED state that keeps it past the sweep's wait lost its create and is taken back.
   */
  readonly unarmedSince?: string;
}

/** A create request that passed rules 1-3 and its timing checks. */
export interface ScheduleRequest {
  readonly scheduleId: string;
  readonly request: TransferRequest;
  /** Whole seconds: EventBridge Scheduler's `at()` has no finer grain. */
  readonly at: Date;
  readonly payloadHash: string;
}

/** An ISO-8601 UTC time as `At` takes it: seconds, optional fraction, `Z`. */
const UTC_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/**
 * Rules 1-3 of a create, and its timing: exactly one of `At` (60 s to 30 days after `now`) or `AfterSeconds`
 * (60..2592000). A timing problem is a shape problem (rule 1), listed with the request's own in Fields.
 * The ScheduleId follows from the idempotency key, so a retried create names the same schedule; the payload hash
 * binds the key to the request and its timing as sent (an `AfterSeconds` retried later is the same request).
 */
export function parseScheduleRequest(input: unknown, instance: ConnectInstance, now: Date): ScheduleRequest {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw TransferError.of('VALIDATION_FAILED', { message: 'The request must be a JSON object: a TransferContact request with At or AfterSeconds.' });
  }
  const { At, AfterSeconds, ...rest } = input as Record<string, unknown>;
  const timing = timingOf(At, AfterSeconds, now);
  let request: TransferRequest;
  try {
    request = parseTransferRequest(rest, instance);
  } catch (error) {
    if (error instanceof TransferError && error.reason === 'VALIDATION_FAILED' && 'problems' in timing) {
      throw TransferError.of('VALIDATION_FAILED', { fields: [...timing.problems, ...(error.fields ?? [])] });
    }
    if (!('problems' in timing)) throw error;
    throw TransferError.of('VALIDATION_FAILED', { fields: timing.problems });
  }
  if ('problems' in timing) throw TransferError.of('VALIDATION_FAILED', { fields: timing.problems });
  const { idempotencyKey, payloadHash } = idempotencyKeysOf(request, instance.id);
  return {
    scheduleId: scheduleIdOf(idempotencyKey),
    request,
    at: timing.at,
    payloadHash: sha256(JSON.stringify([payloadHash, At ?? null, AfterSeconds ?? null])),
  };
}

/** Its own namespace, so a schedule and a transfer with the same ClientToken never share a name. */
export function scheduleIdOf(idempotencyKey: string): string {
  return `sch-${sha256(`schedule\n${idempotencyKey}`).slice(0, 32)}`;
}

function timingOf(at: unknown, afterSeconds: unknown, now: Date): { readonly at: Date } | { readonly problems: FieldError[] } {
  const { min, max } = SCHEDULE_AHEAD_SECONDS;
  const problem = (Field: string, Message: string) => ({ problems: [{ Field, Message }] });
  if (at === undefined && afterSeconds === undefined) return problem('At', 'exactly one of At or AfterSeconds is required');
  if (at !== undefined && afterSeconds !== undefined) return problem('AfterSeconds', 'give At or AfterSeconds, not both');
  if (afterSeconds !== undefined) {
    if (typeof afterSeconds !== 'number' || !Number.isInteger(afterSeconds) || afterSeconds < min || afterSeconds > max) {
      return problem('AfterSeconds', `must be a whole number of seconds from ${min} to ${max} (30 days)`);
    }
    return { at: wholeSecondAfter(now.getTime() + afterSeconds * 1000) };
  }
  const time = typeof at === 'string' && UTC_TIME.test(at) ? Date.parse(at) : Number.NaN;
  if (Number.isNaN(time)) return problem('At', 'must be an ISO-8601 UTC time such as 2030-01-31T12:00:00Z');
  const ahead = (time - now.getTime()) / 1000;
  if (ahead <= 0) return problem('At', 'is in the past; it must be at least 60 seconds ahead');
  if (ahead < min) return problem('At', `must be at least ${min} seconds ahead`);
  if (ahead > max) return problem('At', `must be at most 30 days (${max} seconds) ahead`);
  return { at: wholeSecondAfter(time) };
}

/** Rounded up, so a time at least a minute ahead stays so. */
const wholeSecondAfter = (ms: number): Date => new Date(Math.ceil(ms / 1000) * 1000);

/** An id the gateway could have issued; anything else is SCHEDULE_NOT_FOUND, never a malformed key sent to DynamoDB. */
export function parseScheduleId(value: unknown): string {
  if (typeof value === 'string' && SCHEDULE_ID.test(value)) return value;
  throw TransferError.of('SCHEDULE_NOT_FOUND');
}

/** `GET /contact/transfer/schedules?ContactId=&MaxResults=&NextToken=`: paged as the history is (contract section 10). */
export type ScheduleListQuery = HistoryQuery;

export interface SchedulePage {
  readonly Schedules: readonly Schedule[];
  readonly NextToken?: string;
}

/** Rule 1 for the listing: the history's checks, the contact named by the query instead of the path. */
export function parseScheduleListQuery(parameters: Readonly<Record<string, string | undefined>>): ScheduleListQuery {
  return parseHistoryQuery(parameters.ContactId, parameters);
}

/** The public view of a stored schedule. */
export function publicSchedule({ createdBy: _createdBy, payloadHash: _payloadHash, unarmedSince: _unarmedSince, ...schedule }: StoredSchedule): Schedule {
  return schedule;
}
