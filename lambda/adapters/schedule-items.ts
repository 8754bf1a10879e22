import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { TransferError } from '../domain/errors';
import type { ScheduleOutcome, ScheduleState, StoredSchedule } from '../domain/schedule';
import { SCHEDULES_CONTACT_INDEX, SCHEDULES_ITEM_PREFIXES, SCHEDULES_TABLE, SCHEDULES_UNARMED_INDEX } from '../tables';

/* The schedules table's items as lambda/tables.ts describes them: their keys, a schedule read back from its item, and
   the listing's page token. */
const { partitionKey: PK } = SCHEDULES_TABLE;
const { partitionKey: CONTACT_ID, sortKey: CREATED_AT } = SCHEDULES_CONTACT_INDEX;

export const scheduleKey = (scheduleId: string) => ({ [PK]: { S: `${SCHEDULES_ITEM_PREFIXES.schedule}${scheduleId}` } });
export const counterKey = (contactId: string) => ({ [PK]: { S: `${SCHEDULES_ITEM_PREFIXES.counter}${contactId}` } });

const STATES: readonly ScheduleState[] = ['SCHEDULED', 'CANCELLED', 'FIRED'];

export function scheduleOf(item: Record<string, unknown>): StoredSchedule | undefined {
  const { scheduleId, at, state, createdBy, payloadHash, request, outcome, firedAt, cancelledAt } = item;
  const unarmedSince = item[SCHEDULES_UNARMED_INDEX.sortKey];
  const contactId = item[CONTACT_ID];
  const createdAt = item[CREATED_AT];
  const known = STATES.find((candidate) => candidate === state);
  if (typeof scheduleId !== 'string' || typeof contactId !== 'string' || typeof at !== 'string' || known === undefined) return undefined;
  if (typeof createdAt !== 'string' || typeof createdBy !== 'string' || typeof payloadHash !== 'string' || typeof request !== 'string') return undefined;
  return {
    ScheduleId: scheduleId,
    ContactId: contactId,
    At: at,
    State: known,
    CreatedAt: createdAt,
    Request: JSON.parse(request) as StoredSchedule['Request'],
    ...(typeof outcome === 'string' && { Outcome: JSON.parse(outcome) as ScheduleOutcome }),
    ...(typeof firedAt === 'string' && { FiredAt: firedAt }),
    ...(typeof cancelledAt === 'string' && { CancelledAt: cancelledAt }),
    createdBy,
    payloadHash,
    ...(typeof unarmedSince === 'string' && { unarmedSince }),
  };
}

/** Opaque to callers: the index position to resume after, bound to the contact it was issued for. */
export function encodeToken(key: Record<string, AttributeValue>): string {
  const { [PK]: pk, [CONTACT_ID]: contact, [CREATED_AT]: created } = unmarshall(key);
  return Buffer.from(JSON.stringify([pk, contact, created]), 'utf8').toString('base64url');
}

export function decodeToken(token: string, contactId: string): Record<string, AttributeValue> {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  if (!Array.isArray(decoded) || decoded.length !== 3 || decoded[1] !== contactId || typeof decoded[0] !== 'string' || !decoded[0].startsWith(SCHEDULES_ITEM_PREFIXES.schedule) || typeof decoded[2] !== 'string') {
    throw TransferError.of('VALIDATION_FAILED', { fields: [{ Field: 'NextToken', Message: "must be the NextToken of an earlier page of this contact's schedules" }] });
  }
  return marshall({ [PK]: decoded[0], [CONTACT_ID]: contactId, [CREATED_AT]: decoded[2] });
}
