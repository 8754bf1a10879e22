/**
 * The OpenAPI 3 description of the gateway's HTTPS API, generated from what the function itself uses: the request
 * schema (`transferRequestSchema`), the history's page schema (`historyPageSchema`), the schedules' limits
 * (lambda/domain/schedule.ts) and the error table (`REASONS`). `npm run openapi` writes docs/openapi.json; a test
 * fails when the committed file and this generator disagree, and checks both against the synthesized API and against
 * real answers of local mode.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod/mini';
import { REASONS } from '../lambda/domain/errors';
import type { KnownReason, Reason } from '../lambda/domain/errors';
import { HISTORY_PAGE, historyItemSchema, historyPageSchema } from '../lambda/domain/history';
import { MAX_BODY_BYTES, transferRequestSchema } from '../lambda/domain/request';
import { HISTORY_RESOURCE } from '../lambda/domain/history';
import { MAX_SCHEDULED_PER_CONTACT, SCHEDULE_AHEAD_SECONDS, SCHEDULE_ID, SCHEDULE_RESOURCE, SCHEDULE_STATES, SCHEDULES_RESOURCE } from '../lambda/domain/schedule';

export const OPENAPI_PATH = join(__dirname, '..', 'docs', 'openapi.json');

/**
 * What the API itself answers before the function runs, through the stack's gateway responses (contract section 5
 * shape). A stack test ties this list to the synthesized gateway responses. API Gateway's other refusals keep its
 * own status and carry its response type as the reason (the `4XX` response below).
 */
export const EDGE_ERRORS = [
  { reason: 'ACCESS_DENIED', status: 403, type: 'AccessDeniedException' },
  { reason: 'MISSING_AUTHENTICATION_TOKEN', status: 403, type: 'AccessDeniedException' },
  { reason: 'INVALID_SIGNATURE', status: 403, type: 'AccessDeniedException' },
  { reason: 'EXPIRED_TOKEN', status: 403, type: 'AccessDeniedException' },
  { reason: 'VALIDATION_FAILED', status: 400, type: 'InvalidRequestException' },
  { reason: 'THROTTLED', status: 429, type: 'ThrottlingException' },
  { reason: 'INTERNAL_ERROR', status: 500, type: 'InternalServiceException' },
] as const satisfies readonly { reason: string; status: number; type: string }[];

/** Connect's refusal of a request that passed the gateway's rules keeps Connect's own status and type. */
const PASSED_THROUGH: Reason = 'CONNECT_REJECTED';

/** What each request member means to a caller; the schema holds the limits. Every member must have one. */
const MEMBER_DESCRIPTIONS: Record<keyof typeof transferRequestSchema.shape, string> = {
  InstanceId: 'Optional: the gateway serves one Amazon Connect instance; given, it must be that instance\'s id or ARN.',
  ContactId: 'The contact to transfer: an active TASK or EMAIL contact (by default) of the instance.',
  ContactFlowId: 'The flow to transfer to (id or ARN): an Inbound, Transfer to agent or Transfer to queue flow, active and published.',
  QueueId: 'The queue to transfer to (id or ARN), with a Transfer to queue or Inbound flow. Not together with UserId.',
  UserId: 'The agent to transfer to (id or ARN), with a Transfer to agent or Inbound flow. Not together with QueueId.',
  ClientToken:
    'Idempotency token (alias: the Idempotency-Key header). Without one the request is keyed by ContactId, ContactFlowId, QueueId and ' +
    'UserId (and Note and Conditions when given), so the same request again is a replay.',
  Note: 'Optional, 1 to 256 printable characters: why, in your words. Kept in the ledger, shown in the history, carried by every event of the request.',
  Conditions:
    'Optional: transfer only if the contact is still where you believe it is, judged on the DescribeContact the gateway makes anyway. ' +
    'InQueue (queue id or ARN): the contact waits in that queue and no agent has accepted it. NotWithAgent (true): no agent has accepted it. ' +
    'QueuedForSeconds (1 to 2592000): it has waited in its current queue at least this long. All given must hold; otherwise 409 ' +
    'CONDITION_NOT_MET (ConditionalOperationFailedException), nothing is transferred, and one Contact Transfer Skipped event follows.',
};

/** What each item of the history means to a caller; the server's schema holds the members. Every member must have one. */
const HISTORY_ITEM_DESCRIPTIONS: Record<keyof typeof historyItemSchema.shape, string> = {
  TransferNumber: 'The transfer\'s place in the contact tree, 1 for the first.',
  FromContactId: 'The contact before the transfer.',
  ToContactId: 'The contact segment the transfer created.',
  ToContactArn: 'Its ARN.',
  ContactFlowId: 'The flow transferred to.',
  QueueId: 'The queue transferred to, for a queue transfer.',
  UserId: 'The agent transferred to, for an agent transfer.',
  RequestedBy: 'Who asked: the IAM caller ARN (https), source/id of the event (eventbridge), or invoke.',
  Door: 'The door the request came through.',
  TransferredAt: 'When Connect accepted the transfer (ISO 8601).',
  Note: 'The request\'s Note, when it had one.',
  ScheduleId: 'The schedule that made this transfer, for a scheduled one.',
};

type Schema = Record<string, unknown>;
interface ErrorGroup {
  readonly status: number;
  readonly type: string;
  readonly reasons: string[];
}

/**
 * What each schedule operation's function code can answer (contract section 12): rules 1-3 and the schedules' own
 * reasons, never Connect's, which are a fired schedule's Outcome instead. The API's own refusals come on top.
 */
const SCHEDULE_OPERATION_REASONS = {
  ScheduleContactTransfer: ['VALIDATION_FAILED', 'QUEUE_AND_USER_BOTH_SET', 'INSTANCE_NOT_ALLOWED', 'CLIENT_TOKEN_REUSED', 'SCHEDULE_LIMIT_REACHED', 'INTERNAL_ERROR'],
  ListContactTransferSchedules: ['VALIDATION_FAILED', 'INTERNAL_ERROR'],
  GetContactTransferSchedule: ['SCHEDULE_NOT_FOUND', 'INTERNAL_ERROR'],
  CancelContactTransferSchedule: ['SCHEDULE_NOT_FOUND', 'SCHEDULE_ALREADY_FIRED', 'INTERNAL_ERROR'],
} as const satisfies Record<string, readonly KnownReason[]>;
type ScheduleOperation = keyof typeof SCHEDULE_OPERATION_REASONS;

/**
 * Every reason of the function's table (or only those given) and of the API's edge, grouped by the status and type
 * they answer with.
 */
export function errorGroups(reasons: readonly KnownReason[] = Object.keys(REASONS) as KnownReason[]): ErrorGroup[] {
  const groups = new Map<string, ErrorGroup>();
  const add = (status: number, type: string, reason: string): void => {
    const key = `${status} ${type}`;
    const group = groups.get(key) ?? { status, type, reasons: [] };
    if (!group.reasons.includes(reason)) group.reasons.push(reason);
    groups.set(key, group);
  };
  for (const reason of reasons) add(REASONS[reason].status, REASONS[reason].type, reason);
  for (const { reason, status, type } of EDGE_ERRORS) add(status, type, reason);
  return [...groups.values()].sort((a, b) => a.status - b.status);
}

/** The server's schema as OpenAPI 3.0, each member with its description. */
function described(schema: z.core.$ZodType, descriptions: Readonly<Record<string, string>>, name: string): Schema & { properties: Record<string, Schema> } {
  const { $schema: _dialect, ...generated } = z.toJSONSchema(schema, { target: 'openapi-3.0' }) as Schema & { properties: Record<string, Schema> };
  const properties = Object.fromEntries(
    Object.entries(generated.properties).map(([member, property]) => {
      const description = descriptions[member];
      if (description === undefined) throw new Error(`${name} member ${member} has no description in lib/openapi.ts.`);
      return [member, { ...property, description }];
    }),
  );
  return { ...generated, properties };
}

function requestSchema(): Schema {
  return {
    ...described(transferRequestSchema, MEMBER_DESCRIPTIONS, 'Request'),
    description: `The request of contract section 2: Connect's TransferContact members, InstanceId optional. At most ${MAX_BODY_BYTES / 1024} KiB.`,
  };
}

/** The history page of contract section 10, from the schema the function answers with. */
function historySchemas(): Record<string, Schema> {
  const page = described(historyPageSchema, { Transfers: 'Oldest first.', NextToken: 'Present when there is a next page: pass it as NextToken.' }, 'History page');
  return {
    ContactTransfer: { ...described(historyItemSchema, HISTORY_ITEM_DESCRIPTIONS, 'History item'), description: 'One transfer, as the ledger recorded it.' },
    ContactTransfersPage: { ...page, properties: { ...page.properties, Transfers: { ...page.properties.Transfers, items: ref('ContactTransfer') } } },
  };
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const requestIdHeader = { 'x-amzn-RequestId': { description: 'The request id, for the gateway\'s logs.', schema: { type: 'string' } } };

function errorResponse(description: string, schema: Schema): Schema {
  return {
    description,
    headers: { 'x-amzn-ErrorType': { description: 'The error type, as Connect sends it.', schema: { type: 'string' } }, ...requestIdHeader },
    content: { 'application/json': { schema } },
  };
}

/** Error responses by status: each status names its type and the reasons it can carry. */
function errorResponses(groups: ErrorGroup[], passesConnectThrough = true): Record<string, Schema> {
  const responses: Record<string, Schema> = {};
  for (const group of groups) {
    const types = groups.filter((other) => other.status === group.status);
    const schema = types.length === 1 ? ref(group.type) : { oneOf: types.map((other) => ref(other.type)) };
    responses[String(group.status)] = errorResponse(types.map((other) => `${other.type}: ${other.reasons.join(', ')}`).join('; '), schema);
  }
  responses['4XX'] = errorResponse(
    'Any other refusal by API Gateway (for example an unsupported media type): its own status, type InvalidRequestException, and its response type as the ReasonCode.',
    ref('Error'),
  );
  if (!passesConnectThrough) return responses;
  responses.default = errorResponse(
    `${PASSED_THROUGH}: Amazon Connect refused a request that passed the gateway's rules; Connect's own status and error type.`,
    ref('Error'),
  );
  return responses;
}

function errorSchemas(groups: ErrorGroup[]): Record<string, Schema> {
  const schemas: Record<string, Schema> = {
    FieldError: {
      type: 'object',
      required: ['Field', 'Message'],
      properties: { Field: { type: 'string' }, Message: { type: 'string' } },
      additionalProperties: false,
    },
    Error: {
      type: 'object',
      description: 'The error body of contract section 5, whichever layer refused the request.',
      required: ['Type', 'ReasonCode', 'Message'],
      properties: {
        Type: { type: 'string', description: 'Connect\'s error name, also in the x-amzn-ErrorType header.' },
        ReasonCode: { type: 'string', description: 'Why, as a code to branch on.' },
        Message: { type: 'string', description: 'One human sentence; never internals.' },
        Fields: { type: 'array', items: ref('FieldError'), description: 'For VALIDATION_FAILED: which members are wrong and how.' },
      },
      additionalProperties: false,
    },
  };
  const byType = new Map<string, string[]>();
  for (const group of groups) byType.set(group.type, [...(byType.get(group.type) ?? []), ...group.reasons]);
  for (const [type, reasons] of byType) {
    schemas[type] = {
      type: 'object',
      required: ['Type', 'ReasonCode', 'Message'],
      properties: {
        Type: { type: 'string', enum: [type] },
        ReasonCode: { type: 'string', enum: reasons },
        Message: { type: 'string' },
        Fields: { type: 'array', items: ref('FieldError') },
      },
      additionalProperties: false,
    };
  }
  return schemas;
}

export function openApiDocument(): Schema {
  const groups = errorGroups();
  const errors = errorResponses(groups);
  const historyErrors = Object.fromEntries(
    Object.entries(errors).filter(([status]) => ['400', '403', '429', '500', '4XX', 'default'].includes(status)),
  );
  return {
    openapi: '3.0.3',
    info: {
      title: 'Contact transfer gateway',
      version: '1.0.0',
      description:
        'Amazon Connect TransferContact for TASK and EMAIL contacts, with the gateway\'s rules, idempotency and ledger (docs/contract.md). ' +
        'Every operation needs a SigV4 signature for service execute-api from a principal the API\'s policies allow.',
    },
    servers: [
      {
        url: 'https://{apiId}.execute-api.{region}.amazonaws.com/{stage}',
        description: 'The stack\'s ApiEndpoint output',
        variables: { apiId: { default: 'abc123' }, region: { default: 'us-east-1' }, stage: { default: 'prod' } },
      },
    ],
    security: [{ sigv4: [] }],
    paths: {
      '/contact/transfer': {
        post: {
          operationId: 'TransferContact',
          summary: 'Transfer a contact to a queue, an agent or a flow (contract section 3.1)',
          parameters: [idempotencyKeyParameter()],
          requestBody: { required: true, content: { 'application/json': { schema: ref('TransferContactRequest') } } },
          responses: {
            200: {
              description: 'Transferred, or a replay of an earlier request with the same idempotency key.',
              headers: replayHeaders('nothing was transferred again'),
              content: { 'application/json': { schema: ref('TransferContactResponse') } },
            },
            ...errors,
          },
        },
      },
      [HISTORY_RESOURCE]: {
        get: {
          operationId: 'ListContactTransfers',
          summary: 'The transfers of the contact tree a contact belongs to, oldest first (contract section 10)',
          parameters: [
            { name: 'ContactId', in: 'path', required: true, description: 'Any contact of the tree.', schema: transferRequestSchemaMember('ContactId') },
            ...PAGE_PARAMETERS,
          ],
          responses: {
            200: {
              description: 'One page of the history; a contact the ledger has never seen gives an empty list.',
              headers: requestIdHeader,
              content: { 'application/json': { schema: ref('ContactTransfersPage') } },
            },
            ...historyErrors,
          },
        },
      },
      ...schedulePaths(),
    },
    components: {
      securitySchemes: {
        sigv4: { type: 'apiKey', name: 'Authorization', in: 'header', 'x-amazon-apigateway-authtype': 'awsSigv4' },
      },
      schemas: {
        TransferContactRequest: requestSchema(),
        TransferContactResponse: {
          type: 'object',
          required: ['ContactId', 'ContactArn'],
          properties: {
            ContactId: { type: 'string', description: 'The contact segment the transfer created.' },
            ContactArn: { type: 'string', description: 'Its ARN.' },
          },
          additionalProperties: false,
        },
        ...historySchemas(),
        ...scheduleSchemas(),
        ...errorSchemas(groups),
      },
    },
  };
}

const PAGE_PARAMETERS = [
  {
    name: 'MaxResults',
    in: 'query',
    required: false,
    schema: { type: 'integer', minimum: HISTORY_PAGE.min, maximum: HISTORY_PAGE.max, default: HISTORY_PAGE.default },
  },
  { name: 'NextToken', in: 'query', required: false, description: 'The NextToken of the previous page.', schema: { type: 'string', minLength: 1 } },
];

function idempotencyKeyParameter(): Schema {
  return {
    name: 'Idempotency-Key',
    in: 'header',
    required: false,
    description: 'Alias of ClientToken; when both are given they must be equal.',
    schema: transferRequestSchemaMember('ClientToken'),
  };
}

function replayHeaders(replayMeans: string): Schema {
  return {
    'Idempotent-Replayed': { description: `\`true\` when this answer is a replay: ${replayMeans}.`, schema: { type: 'string', enum: ['true'] } },
    ...requestIdHeader,
  };
}

const scheduleErrors = (operation: ScheduleOperation): Record<string, Schema> => errorResponses(errorGroups(SCHEDULE_OPERATION_REASONS[operation]), false);
const scheduleIdParameter = { name: 'ScheduleId', in: 'path', required: true, description: 'The ScheduleId the create answered.', schema: ref('ScheduleId') };
const json = (schema: Schema) => ({ 'application/json': { schema } });

/** The routes of contract section 12. */
function schedulePaths(): Record<string, Schema> {
  return {
    [SCHEDULES_RESOURCE]: {
      post: {
        operationId: 'ScheduleContactTransfer',
        summary: 'Run a transfer later, on EventBridge Scheduler (contract section 12)',
        description:
          'Rules 1 to 3 are checked now, the others when it fires; its Conditions are judged then. Idempotent as a transfer: ' +
          `the same key names the same schedule. At most ${MAX_SCHEDULED_PER_CONTACT} schedules of one contact wait at once.`,
        parameters: [idempotencyKeyParameter()],
        requestBody: { required: true, content: json(ref('ScheduleContactTransferRequest')) },
        responses: {
          201: {
            description: 'Scheduled, or a replay of an earlier request with the same idempotency key.',
            headers: replayHeaders('no second schedule was made'),
            content: json(ref('ScheduleContactTransferResponse')),
          },
          ...scheduleErrors('ScheduleContactTransfer'),
        },
      },
      get: {
        operationId: 'ListContactTransferSchedules',
        summary: "A contact's schedules in every state, oldest first",
        parameters: [{ name: 'ContactId', in: 'query', required: true, schema: transferRequestSchemaMember('ContactId') }, ...PAGE_PARAMETERS],
        responses: {
          200: { description: 'One page; a contact without schedules gives an empty list.', headers: requestIdHeader, content: json(ref('ContactTransferSchedulesPage')) },
          ...scheduleErrors('ListContactTransferSchedules'),
        },
      },
    },
    [SCHEDULE_RESOURCE]: {
      get: {
        operationId: 'GetContactTransferSchedule',
        summary: 'A schedule: its state, and once it fired, its outcome',
        parameters: [scheduleIdParameter],
        responses: {
          200: { description: 'The schedule.', headers: requestIdHeader, content: json(ref('ContactTransferSchedule')) },
          ...scheduleErrors('GetContactTransferSchedule'),
        },
      },
      delete: {
        operationId: 'CancelContactTransferSchedule',
        summary: 'Cancel a schedule that has not fired',
        parameters: [scheduleIdParameter],
        responses: {
          204: { description: 'Cancelled (or cancelled already): it will never transfer.', headers: requestIdHeader },
          ...scheduleErrors('CancelContactTransferSchedule'),
        },
      },
    },
  };
}

const SCHEDULE_STATE = { type: 'string', enum: [...SCHEDULE_STATES] };
const isoTime = (description: string): Schema => ({ type: 'string', format: 'date-time', description });

function scheduleSchemas(): Record<string, Schema> {
  const { min, max } = SCHEDULE_AHEAD_SECONDS;
  const transfer = requestSchema() as { properties: Record<string, Schema>; required: string[] };
  const { InstanceId: _instance, ...accepted } = transfer.properties;
  const outcome = (result: string, members: Record<string, Schema>, description: string): Schema => ({
    type: 'object',
    description,
    required: ['Result', ...Object.keys(members)],
    properties: { Result: { type: 'string', enum: [result] }, ...members },
    additionalProperties: false,
  });
  const text = { type: 'string' };
  return {
    ScheduleId: { type: 'string', pattern: SCHEDULE_ID.source, description: 'sch- and 32 hex characters, derived from the idempotency key.' },
    ScheduleContactTransferRequest: {
      ...transfer,
      description: 'The request of contract section 2 and exactly one of At or AfterSeconds.',
      properties: {
        ...transfer.properties,
        At: isoTime(`When to transfer: ISO-8601 UTC with Z, ${min} seconds to 30 days ahead.`),
        AfterSeconds: { type: 'integer', minimum: min, maximum: max, description: 'When to transfer: this many seconds after the gateway receives the request.' },
      },
      oneOf: [{ required: ['At'] }, { required: ['AfterSeconds'] }],
    },
    ScheduleContactTransferResponse: {
      type: 'object',
      required: ['ScheduleId', 'ContactId', 'At', 'State'],
      properties: { ScheduleId: ref('ScheduleId'), ContactId: text, At: isoTime('When it fires, in whole seconds.'), State: { type: 'string', enum: ['SCHEDULED'] } },
      additionalProperties: false,
    },
    ScheduleOutcome: {
      description: 'What happened when it fired; absent until known.',
      oneOf: [
        outcome('TRANSFERRED', { ContactId: text, ContactArn: text }, 'Transferred: the contact segment the transfer created.'),
        outcome('SKIPPED', { ReasonCode: { type: 'string', enum: ['CONDITION_NOT_MET'] }, Message: text }, 'A condition did not hold; nothing was transferred.'),
        outcome('FAILED', { ReasonCode: text, Type: text, Message: text }, 'Refused or failed, with the reason a transfer would have answered.'),
      ],
    },
    ContactTransferSchedule: {
      type: 'object',
      required: ['ScheduleId', 'ContactId', 'At', 'State', 'CreatedAt', 'Request'],
      properties: {
        ScheduleId: ref('ScheduleId'),
        ContactId: text,
        At: isoTime('When it fires (or fired), in whole seconds.'),
        State: { ...SCHEDULE_STATE, description: 'SCHEDULED until it fires or is cancelled.' },
        CreatedAt: isoTime('When it was created.'),
        Request: { type: 'object', required: transfer.required, properties: accepted, description: 'The transfer request as accepted: ids resolved within the instance, without At or AfterSeconds.' },
        Outcome: ref('ScheduleOutcome'),
        FiredAt: isoTime('When it fired.'),
        CancelledAt: isoTime('When it was cancelled.'),
      },
      additionalProperties: false,
    },
    ContactTransferSchedulesPage: {
      type: 'object',
      required: ['Schedules'],
      properties: {
        Schedules: { type: 'array', items: ref('ContactTransferSchedule'), description: 'Oldest first.' },
        NextToken: { type: 'string', description: 'Present when there is a next page: pass it as NextToken.' },
      },
      additionalProperties: false,
    },
  };
}

function transferRequestSchemaMember(member: keyof typeof transferRequestSchema.shape): Schema {
  const { $schema: _dialect, ...schema } = z.toJSONSchema(transferRequestSchema.shape[member], { target: 'openapi-3.0' }) as Schema;
  return schema;
}

/** The committed form: two-space JSON with a final newline, so a regenerated file diffs cleanly. */
export function renderOpenApi(): string {
  return `${JSON.stringify(openApiDocument(), null, 2)}\n`;
}

if (require.main === module) {
  writeFileSync(OPENAPI_PATH, renderOpenApi());
  console.log(`Wrote ${OPENAPI_PATH}`);
}
