import type { TransferContactRequest } from './index';

/**
 * Scheduled transfers (contract section 12): a transfer request the gateway runs later on EventBridge Scheduler,
 * usually with Conditions, so an escalation survives deploys and crashes of the caller.
 */

/** When it runs: exactly one of an instant or a delay. */
export type ScheduleTime =
  | {
      /** ISO-8601 UTC (`2026-12-05T17:30:00Z`), 60 s to 30 days ahead. */
      readonly At: string;
      readonly AfterSeconds?: never;
    }
  | {
      /** 60..2592000 (30 days) after the gateway receives the request. */
      readonly AfterSeconds: number;
      readonly At?: never;
    };

/** `POST /contact/transfer/schedules`: the transfer request of section 2 plus when. */
export type ScheduleContactTransferRequest = TransferContactRequest & ScheduleTime;

/** The members a schedule request may carry beyond the transfer's own. */
export const SCHEDULE_TIME_MEMBERS = ['At', 'AfterSeconds'] as const satisfies readonly (keyof ScheduleTime)[];

export const SCHEDULE_STATES = ['SCHEDULED', 'CANCELLED', 'FIRED'] as const;
export type ScheduleState = (typeof SCHEDULE_STATES)[number];

export interface ScheduleContactTransferResult {
  /** `sch-` and 32 hex characters, derived from the idempotency key: a retried create names the same schedule. */
  readonly ScheduleId: string;
  readonly ContactId: string;
  /** When it fires, ISO-8601 UTC (AfterSeconds resolved by the gateway). */
  readonly At: string;
  readonly State: 'SCHEDULED';
  /** The gateway answered from its idempotency store: an earlier request with the same key made this schedule. */
  readonly replayed: boolean;
}

/** What happened when a schedule fired; absent until known. */
export type ScheduleOutcome =
  | { readonly Result: 'TRANSFERRED'; readonly ContactId: string; readonly ContactArn: string }
  /** A condition did not hold (often the expected end of an escalation an agent made unnecessary). */
  | { readonly Result: 'SKIPPED'; readonly ReasonCode: 'CONDITION_NOT_MET'; readonly Message: string }
  | { readonly Result: 'FAILED'; readonly ReasonCode: string; readonly Type: string; readonly Message: string };

/** `GET /contact/transfer/schedules/{ScheduleId}`. */
export interface ContactTransferSchedule {
  readonly ScheduleId: string;
  readonly ContactId: string;
  readonly At: string;
  readonly State: ScheduleState;
  readonly CreatedAt: string;
  /** The transfer request as accepted, without At or AfterSeconds. */
  readonly Request: TransferContactRequest;
  readonly Outcome?: ScheduleOutcome;
  readonly FiredAt?: string;
  readonly CancelledAt?: string;
}

export interface ScheduleIdRequest {
  readonly ScheduleId: string;
}

/** `GET /contact/transfer/schedules?ContactId=...`: a contact's schedules, oldest first, paginated as the history. */
export interface ListContactTransferSchedulesRequest {
  readonly ContactId: string;
  /** 1-100. */
  readonly MaxResults?: number;
  readonly NextToken?: string;
}

export interface ListContactTransferSchedulesResult {
  readonly Schedules: readonly ContactTransferSchedule[];
  readonly NextToken?: string;
}
