/**
 * The three events the gateway publishes on the default bus (contract section 9), as the EventBridge Pipes from the
 * ledger table's stream produce them: the filters that pick the stream records and the input templates that shape
 * the events. Plain data, shared by the stack (lib/) and local mode's pipe model (local/), so a local event and a
 * deployed one cannot drift apart.
 */
import { transferEventSource } from '../lambda/settings';

/** The settings table's default source of the transfer events. */
export const TRANSFER_EVENTS_SOURCE_DEFAULT = transferEventSource.default ?? '';

export interface PipeDefinition {
  readonly detailType: string;
  /** EventBridge Pipes filter patterns (FilterCriteria.Filters[].Pattern); a record passes when any matches. */
  readonly filters: readonly Record<string, unknown>[];
  /**
   * Pipes InputTemplate: `<$.path>` is replaced by the value at that path of the stream record; quoted where the value
   * is a string, unquoted where it is a number (Amazon EventBridge user guide, "Amazon EventBridge Pipes input
   * transformation").
   */
  readonly inputTemplate: string;
}

const image = (attribute: string, type: 'S' | 'N' = 'S') => `<$.dynamodb.NewImage.${attribute}.${type}>`;
const text = (attribute: string) => `"${image(attribute)}"`;
const template = (members: Record<string, string>) =>
  `{${Object.entries(members)
    .map(([name, value]) => `"${name}": ${value}`)
    .join(', ')}}`;

const transferRecord = { sk: { S: [{ prefix: 'TRANSFER#' }] }, status: { S: ['TRANSFERRED'] } };

/** A transfer record reaching TRANSFERRED, whether written so at once or first as PENDING and then completed. */
export const TRANSFERRED_PIPE: PipeDefinition = {
  detailType: 'Contact Transferred',
  filters: [
    { eventName: ['INSERT'], dynamodb: { NewImage: transferRecord } },
    { eventName: ['MODIFY'], dynamodb: { NewImage: transferRecord, OldImage: { status: { S: [{ 'anything-but': ['TRANSFERRED'] }] } } } },
  ],
  inputTemplate: template({
    TreeId: text('treeId'),
    TransferNumber: image('transferNumber', 'N'),
    FromContactId: text('fromContactId'),
    ToContactId: text('toContactId'),
    ToContactArn: text('toContactArn'),
    ContactFlowId: text('contactFlowId'),
    QueueId: text('queueId'),
    UserId: text('userId'),
    Door: text('door'),
    RequestedBy: text('requestedBy'),
    CorrelationId: text('correlationId'),
    ClientToken: text('clientToken'),
    Note: text('note'),
    ScheduleId: text('scheduleId'),
    At: text('at'),
  }),
};

/** A failure record (lambda/adapters/failure-records.ts): written once per event, so only its INSERT counts. */
export const FAILED_PIPE: PipeDefinition = {
  detailType: 'Contact Transfer Failed',
  filters: [{ eventName: ['INSERT'], dynamodb: { NewImage: { pk: { S: [{ prefix: 'FAILURE#' }] } } } }],
  inputTemplate: template({
    Outcome: text('status'),
    Type: text('type'),
    ReasonCode: text('reason'),
    Message: text('message'),
    // The original request as the publisher sent it, as JSON text: it may not even have been JSON.
    Request: text('request'),
    ClientToken: text('clientToken'),
    Note: text('note'),
    ContactId: text('contactId'),
    EventId: text('correlationId'),
    RequestedBy: text('requestedBy'),
    ScheduleId: text('scheduleId'),
    At: text('at'),
  }),
};

/**
 * A failed condition recorded under a request's key (contract sections 9 and 11). The record is only ever written
 * whole, over nothing (INSERT) or over a released attempt or a skip whose answer expired (MODIFY): each write is a new
 * answer, and a write whose condition fails leaves no stream record.
 */
export const SKIPPED_PIPE: PipeDefinition = {
  detailType: 'Contact Transfer Skipped',
  filters: [{ eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { sk: { S: ['INTENT'] }, status: { S: ['SKIPPED'] } } } }],
  inputTemplate: template({
    ReasonCode: '"CONDITION_NOT_MET"',
    Type: '"ConditionalOperationFailedException"',
    Condition: text('condition'),
    Expected: text('expected'),
    Message: text('message'),
    Contact: template({
      QueueId: text('observedQueueId'),
      EnqueueTimestamp: text('observedEnqueueTimestamp'),
      AgentId: text('observedAgentId'),
      ConnectedToAgentTimestamp: text('observedConnectedToAgentTimestamp'),
      LastPausedTimestamp: text('observedLastPausedTimestamp'),
      ScheduledTimestamp: text('observedScheduledTimestamp'),
    }),
    // The request as the gateway understood it (ids resolved), as JSON text like the failure event's.
    Request: text('request'),
    ContactId: text('fromContactId'),
    ContactFlowId: text('contactFlowId'),
    QueueId: text('queueId'),
    UserId: text('userId'),
    ClientToken: text('clientToken'),
    Note: text('note'),
    Door: text('door'),
    RequestedBy: text('requestedBy'),
    CorrelationId: text('correlationId'),
    ScheduleId: text('scheduleId'),
    At: text('at'),
  }),
};

export const TRANSFER_EVENT_PIPES = [TRANSFERRED_PIPE, FAILED_PIPE, SKIPPED_PIPE] as const;
