import * as z from 'zod/mini';
import { resolveResourceId } from './arn';
import type { ConnectInstance, ResolvedId } from './arn';
import { TransferError } from './errors';
import type { FieldError } from './errors';
import { MAX_QUEUED_FOR_SECONDS } from './transfer-conditions';
import type { TransferConditions } from './transfer-conditions';

/** A body larger than this is rejected before it is parsed (contract section 2). */
export const MAX_BODY_BYTES = 16 * 1024;

/**
 * JSON nested deeper than this is refused before anything walks it: a request is a few levels deep, while a few
 * thousand levels overflow the stack of whatever recurses over them (JSON.stringify, marshalling, logging).
 */
export const MAX_JSON_DEPTH = 32;

/** Whether JSON text nests objects and arrays deeper than `limit`, found without parsing or recursing. */
export function nestsDeeperThan(json: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < json.length; index += 1) {
    const char = json[index];
    if (inString) {
      if (char === '\\') index += 1;
      else if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
    } else if (char === '{' || char === '[') {
      depth += 1;
      if (depth > limit) return true;
    } else if (char === '}' || char === ']') {
      depth -= 1;
    }
  }
  return false;
}

/**
 * An error names at most this many problems, and echoes at most this many characters of a member name the caller
 * sent: a body of a thousand unknown members gets a short error, not a copy of itself.
 */
export const MAX_LISTED_PROBLEMS = 10;
export const MAX_ECHOED_NAME_LENGTH = 64;

/**
 * The request of contract section 2: Connect's own TransferContact members and limits, InstanceId optional.
 * Strict, so a misspelt member such as `QueueID` is an error instead of a silent transfer to the flow alone.
 */
export const transferRequestSchema = z.strictObject({
  InstanceId: z.optional(text(256)),
  ContactId: text(256),
  ContactFlowId: text(500),
  QueueId: z.optional(text(256)),
  UserId: z.optional(text(256)),
  ClientToken: z.optional(text(500)),
  Note: z.optional(printable(256)),
  Conditions: z.optional(
    z
      .strictObject({
        InQueue: z.optional(text(256)),
        NotWithAgent: z.optional(z.literal(true)),
        QueuedForSeconds: z.optional(z.int().check(z.minimum(1), z.maximum(MAX_QUEUED_FOR_SECONDS))),
      })
      .check(
        z.refine((conditions) => Object.keys(conditions).length > 0, {
          message: 'must name at least one condition (InQueue, NotWithAgent, QueuedForSeconds)',
          // An object of unknown members only is already told so, member by member.
          when: (payload) => payload.issues.length === 0,
        }),
      ),
  ),
});

/** In unicode mode a surrogate pair is one code point, so this matches only a lone (unpaired) surrogate. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * zod/mini instead of zod's classic API: the same checks at a twentieth of the bundle size. A lone UTF-16 surrogate
 * (`"\ud800"` is valid JSON) is not text Connect can take: the SDK cannot URI-encode it, and hashing it as UTF-8
 * would turn every such token into the same key. It is a shape error like any other (rule 1).
 */
function text(maxLength: number) {
  return z.string().check(
    z.minLength(1),
    z.maxLength(maxLength),
    z.refine((value) => !LONE_SURROGATE.test(value), { message: 'must be well-formed Unicode text (it contains a lone UTF-16 surrogate)' }),
  );
}

/** Control characters (C0, DEL, C1): a note is read in logs, consoles and events, where they would garble or forge lines. */
const CONTROL_CHARACTER = /\p{Cc}/u;

function printable(maxLength: number) {
  return text(maxLength).check(z.refine((value) => !CONTROL_CHARACTER.test(value), { message: 'must be printable text (no control characters such as line breaks)' }));
}

const MEMBERS = Object.keys(transferRequestSchema.shape);
const CONDITION_MEMBERS = ['InQueue', 'NotWithAgent', 'QueuedForSeconds'];

/** A request that passed rules 1-3: ids resolved inside the configured instance, InstanceId consumed. */
export interface TransferRequest {
  readonly ContactId: string;
  readonly ContactFlowId: string;
  readonly QueueId?: string;
  readonly UserId?: string;
  readonly ClientToken?: string;
  /** Why, in the caller's words: kept in the ledger, the history and every event. */
  readonly Note?: string;
  /** InQueue resolved to a queue id of the configured instance. */
  readonly Conditions?: TransferConditions;
  /** Set by the gateway alone, on the transfer a schedule fired (contract section 12); never parsed from a caller. */
  readonly ScheduleId?: string;
}

/** Rules 1-3 of contract section 4, the ones that need no remote call. Throws TransferError. */
export function parseTransferRequest(input: unknown, instance: ConnectInstance): TransferRequest {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw TransferError.of('VALIDATION_FAILED', { message: 'The request must be a JSON object with the members of TransferContact.' });
  }
  // reportInput lets a wrong type ("must be a string") be told apart from a missing member ("is required").
  const parsed = transferRequestSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) throw validationFailure(parsed.error.issues.flatMap(describeIssue));
  const { InstanceId, ContactId, ContactFlowId, QueueId, UserId, ClientToken, Note, Conditions } = parsed.data;
  // An ARN of the wrong shape is a shape error (rule 1); one of another instance is rule 3, checked after rule 2.
  const flow = resolveResourceId(ContactFlowId, 'contact-flow', instance);
  const queue = QueueId === undefined ? undefined : resolveResourceId(QueueId, 'queue', instance);
  const user = UserId === undefined ? undefined : resolveResourceId(UserId, 'agent', instance);
  const inQueue = Conditions?.InQueue === undefined ? undefined : resolveResourceId(Conditions.InQueue, 'queue', instance);
  const named = { ContactFlowId: flow, QueueId: queue, UserId: user, 'Conditions.InQueue': inQueue };
  const malformed = Object.entries(named).flatMap(([field, resolved]) =>
    resolved?.kind === 'malformed' ? [{ Field: field, Message: `must be an id or an ARN of the form ${resolved.expected}` }] : [],
  );
  if (malformed.length > 0) throw TransferError.of('VALIDATION_FAILED', { fields: malformed });

  if (QueueId !== undefined && UserId !== undefined) throw TransferError.of('QUEUE_AND_USER_BOTH_SET');

  if (InstanceId !== undefined && InstanceId !== instance.id && InstanceId !== instance.arn) {
    throw TransferError.of('INSTANCE_NOT_ALLOWED');
  }
  return {
    ContactId,
    ContactFlowId: idInInstance('ContactFlowId', flow),
    ...(queue && { QueueId: idInInstance('QueueId', queue) }),
    ...(user && { UserId: idInInstance('UserId', user) }),
    ...(ClientToken !== undefined && { ClientToken }),
    ...(Note !== undefined && { Note }),
    ...(Conditions && {
      Conditions: {
        ...(inQueue && { InQueue: idInInstance('Conditions.InQueue', inQueue) }),
        ...(Conditions.NotWithAgent && { NotWithAgent: true as const }),
        ...(Conditions.QueuedForSeconds !== undefined && { QueuedForSeconds: Conditions.QueuedForSeconds }),
      },
    }),
  };
}

function idInInstance(field: string, resolved: ResolvedId): string {
  if (resolved.kind === 'id') return resolved.id;
  throw TransferError.of('INSTANCE_NOT_ALLOWED', { message: `${field} names a resource of another Amazon Connect instance.` });
}

/** The first problems, and how many there are in all, so the error stays small whatever the request held. */
function validationFailure(fields: readonly FieldError[]): TransferError {
  if (fields.length <= MAX_LISTED_PROBLEMS) return TransferError.of('VALIDATION_FAILED', { fields });
  return TransferError.of('VALIDATION_FAILED', {
    message: `The request does not match the TransferContact request shape: ${fields.length} problems, the first ${MAX_LISTED_PROBLEMS} listed in Fields.`,
    fields: fields.slice(0, MAX_LISTED_PROBLEMS),
  });
}

/** Cut by code points, so a cut never leaves half a surrogate pair behind. */
function echoed(name: string): string {
  // Enough code units for one code point more than the limit, so a longer name is always seen as longer.
  const codePoints = Array.from(name.slice(0, (MAX_ECHOED_NAME_LENGTH + 1) * 2));
  return codePoints.length <= MAX_ECHOED_NAME_LENGTH ? codePoints.join('') : `${codePoints.slice(0, MAX_ECHOED_NAME_LENGTH - 1).join('')}…`;
}

function describeIssue(issue: z.core.$ZodIssue): FieldError[] {
  const field = issue.path.map(String).join('.');
  switch (issue.code) {
    case 'unrecognized_keys': {
      const inConditions = field === 'Conditions';
      return issue.keys.map((key) => ({
        Field: inConditions ? `Conditions.${echoed(key)}` : echoed(key),
        Message: unknownMemberMessage(key, inConditions ? CONDITION_MEMBERS : MEMBERS, inConditions ? 'Conditions' : 'the request'),
      }));
    }
    case 'invalid_type':
      return [{ Field: field, Message: issue.input === undefined ? 'is required' : `must be ${expectedKind(field)}` }];
    case 'invalid_value':
      return [{ Field: field, Message: 'must be true (leave it out to not ask for it)' }];
    case 'too_small':
      return [{ Field: field, Message: issue.origin === 'number' ? `must be at least ${String(issue.minimum)}` : `must be at least ${String(issue.minimum)} character(s) long` }];
    case 'too_big':
      return [{ Field: field, Message: issue.origin === 'number' ? `must be at most ${String(issue.maximum)}` : `must be at most ${String(issue.maximum)} characters long` }];
    default:
      return [{ Field: field, Message: issue.message }];
  }
}

function expectedKind(field: string): string {
  if (field === 'Conditions') return 'an object';
  if (field === 'Conditions.NotWithAgent') return 'true';
  if (field === 'Conditions.QueuedForSeconds') return `a whole number of seconds from 1 to ${MAX_QUEUED_FOR_SECONDS}`;
  return 'a string';
}

function unknownMemberMessage(key: string, members: readonly string[], of: string): string {
  const near = members.find((member) => member.toLowerCase() === key.toLowerCase());
  return near ? `is not a member of ${of}; did you mean ${near}?` : `is not a member of ${of} (members: ${members.join(', ')})`;
}
