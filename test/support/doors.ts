import type { EventResult } from '../../lambda/doors/eventbridge';
import type { TransferResult } from '../../lambda/ports';
import { asHttp, httpEvent, transferEvent } from './gateway-harness';

/** The three doors of contract section 3, driven alike so one test can prove a behaviour on each. */
export const DOORS = ['https', 'eventbridge', 'direct'] as const;
export type DoorName = (typeof DOORS)[number];

/** What a caller of any door learnt: the transfer (and whether it was a replay, where the door says so), or the reason. */
export interface DoorAnswer {
  readonly ok: boolean;
  readonly ContactId?: string;
  readonly ContactArn?: string;
  /** Undefined for the direct door, whose answer is Connect's shape only. */
  readonly replayed?: boolean;
  readonly reason?: string;
}

/** The event Lambda hands the function for `request` through `door`; the same event is what a retry redelivers. */
export function eventFor(door: DoorName, request: Record<string, string>): unknown {
  if (door === 'https') return httpEvent(request);
  if (door === 'eventbridge') return transferEvent(request);
  return { ...request };
}

/** Reads a handler's answer, or its thrown error (a failed invocation), the way that door's caller would. */
export function answerOf(door: DoorName, outcome: { readonly result?: unknown; readonly error?: { readonly name: string; readonly message: string } }): DoorAnswer {
  if (outcome.error) return { ok: false, reason: outcome.error.message.split(':')[0] ?? outcome.error.name };
  if (door === 'https') {
    const answer = asHttp(outcome.result);
    if (answer.status !== 200) return { ok: false, reason: String(answer.body.Reason) };
    return {
      ok: true,
      ContactId: String(answer.body.ContactId),
      ContactArn: String(answer.body.ContactArn),
      replayed: answer.headers['Idempotent-Replayed'] === 'true',
    };
  }
  if (door === 'eventbridge') {
    const result = outcome.result as EventResult;
    if (result.outcome === 'rejected') return { ok: false, reason: result.Reason };
    return { ok: true, ContactId: result.ContactId, ContactArn: result.ContactArn, replayed: result.outcome === 'replayed' };
  }
  const result = outcome.result as TransferResult;
  return { ok: true, ContactId: result.ContactId, ContactArn: result.ContactArn };
}

export async function settle(invocation: Promise<unknown>): Promise<{ result?: unknown; error?: { name: string; message: string } }> {
  try {
    return { result: await invocation };
  } catch (error) {
    return { error: { name: error instanceof Error ? error.name : 'Error', message: error instanceof Error ? error.message : String(error) } };
  }
}
