import * as z from 'zod/mini';
import { TransferError } from './errors';
import type { FieldError } from './errors';
import { transferRequestSchema } from './request';

/** The API resource of contract section 10; the stack builds the route from it. */
export const HISTORY_RESOURCE = '/contact/transfers/{ContactId}';

/** Connect's List APIs page with MaxResults 1-100; the gateway's default is the largest page (contract section 10). */
export const HISTORY_PAGE = { min: 1, max: 100, default: 100 } as const;
/** An opaque token is a few hundred characters; anything much longer was not issued by the gateway. */
const MAX_NEXT_TOKEN_LENGTH = 2048;

/** `GET /contact/transfers/{ContactId}?MaxResults=&NextToken=`, after rules 1 checks. */
export interface HistoryQuery {
  readonly ContactId: string;
  readonly maxResults: number;
  readonly nextToken?: string;
}

/**
 * One transfer as the history lists it: what the ledger recorded, in Connect's member style. The page schemas give
 * the types and the OpenAPI document; the function never parses its own answer, so each call is marked pure and
 * esbuild leaves them, and the zod schema kinds only they use, out of the bundle (3 KB).
 */
export const historyItemSchema = /* @__PURE__ */ z.object({
  TransferNumber: /* @__PURE__ */ z.number(),
  FromContactId: /* @__PURE__ */ z.string(),
  ToContactId: /* @__PURE__ */ z.string(),
  ToContactArn: /* @__PURE__ */ z.string(),
  ContactFlowId: /* @__PURE__ */ z.string(),
  QueueId: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.string()),
  UserId: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.string()),
  RequestedBy: /* @__PURE__ */ z.string(),
  Door: /* @__PURE__ */ z.enum(['https', 'eventbridge', 'invoke']),
  TransferredAt: /* @__PURE__ */ z.string(),
  Note: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.string()),
  /** The schedule that made this transfer (contract section 12). */
  ScheduleId: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.string()),
});
export type HistoryItem = z.infer<typeof historyItemSchema>;

export const historyPageSchema = /* @__PURE__ */ z.object({
  Transfers: /* @__PURE__ */ z.array(historyItemSchema),
  NextToken: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.string()),
});
export type HistoryPage = z.infer<typeof historyPageSchema>;

/** Reads the transfers of the tree a contact belongs to, oldest first. */
export interface TransferHistoryPort {
  list(query: HistoryQuery): Promise<HistoryPage>;
}

/**
 * The same limits a ContactId has in a transfer request, so a contact that can be transferred can be looked up; they
 * include well-formed text (no lone surrogate, which Connect cannot be sent).
 */
const contactIdSchema = transferRequestSchema.shape.ContactId;

/** Rule 1 for the history route: the path and query parameters. Throws TransferError VALIDATION_FAILED. */
export function parseHistoryQuery(contactId: unknown, parameters: Readonly<Record<string, string | undefined>>): HistoryQuery {
  const fields: FieldError[] = [];
  if (typeof contactId !== 'string' || !contactIdSchema.safeParse(contactId).success) {
    fields.push({ Field: 'ContactId', Message: 'must be a contact id of 1 to 256 characters' });
  }
  const rawMax = parameters.MaxResults;
  const maxResults = rawMax === undefined ? HISTORY_PAGE.default : Number(rawMax);
  if (!Number.isInteger(maxResults) || maxResults < HISTORY_PAGE.min || maxResults > HISTORY_PAGE.max || (rawMax !== undefined && !/^\d+$/.test(rawMax))) {
    fields.push({ Field: 'MaxResults', Message: `must be a whole number from ${HISTORY_PAGE.min} to ${HISTORY_PAGE.max}` });
  }
  const nextToken = parameters.NextToken;
  if (nextToken !== undefined && (nextToken === '' || nextToken.length > MAX_NEXT_TOKEN_LENGTH)) {
    fields.push({ Field: 'NextToken', Message: 'must be the NextToken of an earlier page' });
  }
  if (fields.length > 0) throw TransferError.of('VALIDATION_FAILED', { fields });
  return { ContactId: contactId as string, maxResults, ...(nextToken !== undefined && { nextToken }) };
}

/** A NextToken the gateway did not issue for this contact's tree. */
export function invalidNextToken(): TransferError {
  return TransferError.of('VALIDATION_FAILED', { fields: [{ Field: 'NextToken', Message: 'must be the NextToken of an earlier page of this contact\'s history' }] });
}
