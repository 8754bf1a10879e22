import { BatchGetItemCommand, PutItemCommand, QueryCommand, TransactWriteItemsCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue, BatchGetItemCommandOutput, DynamoDBClient, QueryCommandOutput, TransactWriteItem, Update } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { conditionsText } from '../domain/idempotency-keys';
import type { TransferRequest } from '../domain/request';
import type { ConditionName, ContactSnapshot } from '../domain/transfer-conditions';
import type { Intent, IntentStatus, LedgerPort, LedgerView, RecordedSkip, Reservation, ReservationRef, ReserveOutcome, Skip, TransferResult, TreeTally } from '../ports';
import { LEDGER_TABLE, PENDING_SLOTS_INDEX } from '../tables';
import { isConditionalCheckFailed } from './conditions';

const { partitionKey: PK, sortKey: SK = 'sk', timeToLiveAttribute: TTL } = LEDGER_TABLE;
/** Present on a slot only while it is PENDING: what puts it in the sweeper's sparse index. */
const { partitionKey: PENDING_SLOT, sortKey: LAST_ATTEMPT_AT, partitions: PENDING_PARTITIONS } = PENDING_SLOTS_INDEX;
/**
 * On a contact's CONTACT# item while one transfer of it is reserved and not yet settled: the idempotency key holding
 * it. One transfer of a contact in flight at a time (contract section 6) rests on the reservation's condition on it.
 */
const TRANSFER_IN_FLIGHT = 'transferInFlight';
/** The order of a reservation's actions, by which its cancellation reasons are read. */
const RESERVATION = { intent: 0, contact: 1, slot: 2 } as const;

/** Item keys of the ledger; tables.ts says what each item kind is for. */
export const ledgerKeys = {
  slot: (treeId: string, transferNumber: number) => ({ [PK]: `TREE#${treeId}`, [SK]: `TRANSFER#${String(transferNumber).padStart(4, '0')}` }),
  tree: (treeId: string) => `TREE#${treeId}`,
  contact: (contactId: string) => ({ [PK]: `CONTACT#${contactId}`, [SK]: 'TREE' }),
  intent: (idempotencyKey: string) => ({ [PK]: `KEY#${idempotencyKey}`, [SK]: 'INTENT' }),
};

/** A transfer slot's sort key, as `ledgerKeys.slot` writes it (the old `#<new contact id>` suffix is still read). */
export const TRANSFER_SORT_KEY = /^TRANSFER#\d{4}(#[^#]{1,256})?$/;

export const STATUS = { pending: 'PENDING', transferred: 'TRANSFERRED', released: 'RELEASED' } as const satisfies Record<string, IntentStatus>;
/** An intent item that records a failed condition instead of a transfer: it holds no tree slot. */
export const SKIPPED = 'SKIPPED';

/**
 * A key is free for a new intent when nothing holds it, its attempt was released, or its recorded skip no longer
 * answers (contract section 6: a rejection releases the key; a failed condition does so once its answer window ends).
 */
const KEY_IS_FREE = 'attribute_not_exists(#pk) OR #status = :released OR (#status = :skipped AND answeredUntil < :now)';

/** BatchGet may hand back unprocessed keys under load; they are retried, never dropped. */
const UNPROCESSED_RETRIES = 4;

/**
 * The transfer ledger on DynamoDB. Append-only as written here: every write is part of a transaction whose
 * conditions refuse to overwrite (a slot or contact item is created once; a status moves only from PENDING). The
 * function's role holds no action that deletes, but IAM cannot make its PutItem and UpdateItem conditional, so the
 * conditions are this code's (contract section 7).
 */
export class DynamoDbLedger implements LedgerPort {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly retentionDays: number,
  ) {}

  async read(contactId: string, idempotencyKey: string): Promise<LedgerView> {
    const contactKey = ledgerKeys.contact(contactId);
    const intentKey = ledgerKeys.intent(idempotencyKey);
    const items = await this.batchGet([contactKey, intentKey]);
    const view: { -readonly [K in keyof LedgerView]: LedgerView[K] } = {};
    for (const item of items) {
      if (item[PK] === contactKey[PK] && typeof item.treeId === 'string' && typeof item.transfersInTree === 'number') {
        // Items written before the count was kept apart hold the slot number only: an upper bound of the count.
        const lastNumber = typeof item.transferNumber === 'number' ? item.transferNumber : item.transfersInTree;
        view.transfersInTree = { treeId: item.treeId, count: item.transfersInTree, lastNumber };
      }
      if (item[PK] === intentKey[PK]) {
        const intent = intentOf(item, idempotencyKey);
        const skip = skipOf(item);
        if (intent) view.intent = intent;
        if (skip) view.skip = skip;
      }
    }
    return view;
  }

  async tally(treeId: string): Promise<TreeTally> {
    let counted = 0;
    let lastNumber = 0;
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const output: QueryCommandOutput = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :tree AND begins_with(#sk, :transfer)',
          ProjectionExpression: '#status, transferNumber',
          ExpressionAttributeNames: { '#pk': PK, '#sk': SK, '#status': 'status' },
          ExpressionAttributeValues: { ':tree': { S: ledgerKeys.tree(treeId) }, ':transfer': { S: 'TRANSFER#' } },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of (output.Items ?? []).map((raw) => unmarshall(raw))) {
        // A pending slot counts: its transfer may have happened (fail closed).
        if (item.status !== STATUS.released) counted += 1;
        if (typeof item.transferNumber === 'number') lastNumber = Math.max(lastNumber, item.transferNumber);
      }
      startKey = output.LastEvaluatedKey;
    } while (startKey);
    return { counted, lastNumber };
  }

  async reserve(reservation: Reservation): Promise<ReserveOutcome> {
    const { request, origin } = reservation;
    const at = reservation.at.toISOString();
    const expiresAt = this.expiryFrom(reservation.at);
    const common = {
      treeId: reservation.treeId,
      transferNumber: reservation.transferNumber,
      transfersInTree: reservation.transfersInTree,
      fromContactId: reservation.fromContactId,
    };
    const intent = {
      ...ledgerKeys.intent(reservation.idempotencyKey),
      ...common,
      status: STATUS.pending,
      payloadHash: reservation.payloadHash,
      intendedAt: at,
      [TTL]: expiresAt,
    };
    const slot = {
      ...ledgerKeys.slot(reservation.treeId, reservation.transferNumber),
      ...common,
      status: STATUS.pending,
      contactFlowId: request.ContactFlowId,
      queueId: request.QueueId,
      userId: request.UserId,
      ...requestExtras(request),
      door: origin.door,
      requestedBy: origin.caller,
      correlationId: origin.correlationId,
      idempotencyKey: reservation.idempotencyKey,
      clientToken: request.ClientToken,
      reservedAt: at,
      [LAST_ATTEMPT_AT]: at,
      [PENDING_SLOT]: PENDING_PARTITIONS.due,
      [TTL]: expiresAt,
    };
    try {
      await this.transact([
        {
          // A released intent gives its key back (contract section 6: a rejection releases the key).
          Put: {
            TableName: this.tableName,
            Item: marshall(intent, { removeUndefinedValues: true }),
            ConditionExpression: KEY_IS_FREE,
            ExpressionAttributeNames: { '#pk': PK, '#status': 'status' },
            ExpressionAttributeValues: keyIsFreeValues(reservation.at),
          },
        },
        { Update: this.contactInTree(reservation, expiresAt, 'mark') },
        {
          Put: {
            TableName: this.tableName,
            Item: marshall(slot, { removeUndefinedValues: true }),
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': PK },
          },
        },
      ]);
      return 'reserved';
    } catch (error) {
      const failed = failedConditions(error);
      if (failed?.[RESERVATION.intent]) return 'key-taken';
      if (failed?.[RESERVATION.contact] || isConflictOn(error, RESERVATION.contact)) return 'contact-busy';
      if (failed?.[RESERVATION.slot]) return 'slot-taken';
      throw error;
    }
  }

  /**
   * The moved contact's CONTACT# item, and its in-flight mark: set by a reservation only while no other key holds it;
   * cleared by a release only when it is the reservation's own (or absent); cleared by a completion in any case, as
   * the contact has then been transferred and has ended. The history finds a tree from any of its contacts (contract
   * section 10): a contact the gateway made has this item already, one made outside the gateway gets it here, and
   * `if_not_exists` only ever adds, so an existing item (and its count) is left as it is.
   */
  private contactInTree(reservation: ReservationRef, expiresAt: number, inFlight: 'mark' | 'release' | 'complete'): Update {
    const member = 'treeId = if_not_exists(treeId, :tree), #ttl = if_not_exists(#ttl, :expires)';
    const names = { '#ttl': TTL, '#inFlight': TRANSFER_IN_FLIGHT };
    const values = { ':tree': { S: reservation.treeId }, ':expires': { N: String(expiresAt) } };
    const key = { ':key': { S: reservation.idempotencyKey } };
    const item = { TableName: this.tableName, Key: marshall(ledgerKeys.contact(reservation.fromContactId)) };
    if (inFlight === 'mark') {
      return {
        ...item,
        UpdateExpression: `SET #inFlight = :key, ${member}`,
        ConditionExpression: 'attribute_not_exists(#inFlight)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ...values, ...key },
      };
    }
    if (inFlight === 'release') {
      return {
        ...item,
        UpdateExpression: `SET ${member} REMOVE #inFlight`,
        ConditionExpression: 'attribute_not_exists(#inFlight) OR #inFlight = :key',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ...values, ...key },
      };
    }
    return { ...item, UpdateExpression: `SET ${member} REMOVE #inFlight`, ExpressionAttributeNames: names, ExpressionAttributeValues: values };
  }

  async complete(reservation: ReservationRef, result: TransferResult, at: Date): Promise<void> {
    const expiresAt = this.expiryFrom(at);
    const transferred = {
      ':transferred': { S: STATUS.transferred },
      ':pending': { S: STATUS.pending },
      ':to': { S: result.ContactId },
      ':toArn': { S: result.ContactArn },
      ':at': { S: at.toISOString() },
      ':expires': { N: String(expiresAt) },
      ':key': { S: reservation.idempotencyKey },
    };
    try {
      await this.transact([
        {
          Update: {
            TableName: this.tableName,
            Key: marshall(ledgerKeys.slot(reservation.treeId, reservation.transferNumber)),
            UpdateExpression: 'SET #status = :transferred, toContactId = :to, toContactArn = :toArn, #at = :at, #ttl = :expires REMOVE #pendingSlot',
            ConditionExpression: '#status = :pending AND idempotencyKey = :key',
            ExpressionAttributeNames: { '#status': 'status', '#at': 'at', '#ttl': TTL, '#pendingSlot': PENDING_SLOT },
            ExpressionAttributeValues: transferred,
          },
        },
        {
          Update: {
            TableName: this.tableName,
            Key: marshall(ledgerKeys.intent(reservation.idempotencyKey)),
            UpdateExpression: 'SET #status = :transferred, toContactId = :to, toContactArn = :toArn, #at = :at, #ttl = :expires',
            ConditionExpression: '#status = :pending AND treeId = :tree AND transferNumber = :number',
            ExpressionAttributeNames: { '#status': 'status', '#at': 'at', '#ttl': TTL },
            ExpressionAttributeValues: {
              ...withoutKey(transferred),
              ':tree': { S: reservation.treeId },
              ':number': { N: String(reservation.transferNumber) },
            },
          },
        },
        { Update: this.contactInTree(reservation, expiresAt, 'complete') },
        {
          // The new contact's item exists already, without a count, when a request on that contact reserved or released
          // before this record landed: the count is added to it. An item with a count is another transfer's: refused.
          Update: {
            TableName: this.tableName,
            Key: marshall(ledgerKeys.contact(result.ContactId)),
            UpdateExpression: 'SET treeId = if_not_exists(treeId, :tree), transferNumber = :number, transfersInTree = :count, #ttl = if_not_exists(#ttl, :expires)',
            ConditionExpression: 'attribute_not_exists(transfersInTree)',
            ExpressionAttributeNames: { '#ttl': TTL },
            ExpressionAttributeValues: {
              ':tree': { S: reservation.treeId },
              ':number': { N: String(reservation.transferNumber) },
              ':count': { N: String(reservation.transfersInTree) },
              ':expires': { N: String(expiresAt) },
            },
          },
        },
      ]);
    } catch (error) {
      // An earlier attempt (this invocation's lost answer, or a concurrent retry) may have recorded it already.
      if (!failedConditions(error)) throw error;
      const [item] = await this.batchGet([ledgerKeys.intent(reservation.idempotencyKey)]);
      const intent = item && intentOf(item, reservation.idempotencyKey);
      if (intent?.status !== STATUS.transferred || intent.result?.ContactId !== result.ContactId) throw error;
    }
  }

  async release(reservation: ReservationRef, reason: string, at: Date): Promise<void> {
    const values = {
      ':released': { S: STATUS.released },
      ':pending': { S: STATUS.pending },
      ':reason': { S: reason },
      ':at': { S: at.toISOString() },
    };
    await this.transact([
      {
        Update: {
          TableName: this.tableName,
          Key: marshall(ledgerKeys.slot(reservation.treeId, reservation.transferNumber)),
          UpdateExpression: 'SET #status = :released, releasedAt = :at, releaseReason = :reason REMOVE #pendingSlot',
          ConditionExpression: '#status = :pending AND idempotencyKey = :key',
          ExpressionAttributeNames: { '#status': 'status', '#pendingSlot': PENDING_SLOT },
          ExpressionAttributeValues: { ...values, ':key': { S: reservation.idempotencyKey } },
        },
      },
      {
        Update: {
          TableName: this.tableName,
          Key: marshall(ledgerKeys.intent(reservation.idempotencyKey)),
          UpdateExpression: 'SET #status = :released, releasedAt = :at, releaseReason = :reason',
          ConditionExpression: '#status = :pending AND treeId = :tree AND transferNumber = :number',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ...values, ':tree': { S: reservation.treeId }, ':number': { N: String(reservation.transferNumber) } },
        },
      },
      { Update: this.contactInTree(reservation, this.expiryFrom(at), 'release') },
    ]);
  }

  async skip({ idempotencyKey, payloadHash, request, origin, failed, at, answeredUntil }: Skip): Promise<void> {
    const item = {
      ...ledgerKeys.intent(idempotencyKey),
      status: SKIPPED,
      payloadHash,
      answeredUntil: answeredUntil.toISOString(),
      fromContactId: request.ContactId,
      contactFlowId: request.ContactFlowId,
      queueId: request.QueueId,
      userId: request.UserId,
      ...requestExtras(request),
      clientToken: request.ClientToken,
      condition: failed.condition,
      expected: failed.expected,
      message: failed.message,
      // The request as the gateway understood it, for the event: ids resolved, InstanceId consumed.
      request: JSON.stringify(request),
      ...Object.fromEntries(Object.entries(failed.observed).map(([member, value]) => [`observed${member}`, value])),
      door: origin.door,
      requestedBy: origin.caller,
      correlationId: origin.correlationId,
      at: at.toISOString(),
      [TTL]: this.expiryFrom(at),
    };
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall(item, { removeUndefinedValues: true }),
          ConditionExpression: KEY_IS_FREE,
          ExpressionAttributeNames: { '#pk': PK, '#status': 'status' },
          ExpressionAttributeValues: keyIsFreeValues(at),
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  async attempting(reservation: ReservationRef, at: Date): Promise<boolean> {
    try {
      // Also (back) into the sweeper's index: a slot written before it existed, or one set aside, is being tried again.
      await this.updatePendingSlot(reservation, 'SET #attempt = :at, #pendingSlot = :due', { '#attempt': LAST_ATTEMPT_AT }, {
        ':at': { S: at.toISOString() },
        ':due': { S: PENDING_PARTITIONS.due },
      });
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  async setAside(reservation: ReservationRef): Promise<void> {
    await this.updatePendingSlot(reservation, 'SET #pendingSlot = :unconfirmed', {}, { ':unconfirmed': { S: PENDING_PARTITIONS.unconfirmed } });
  }

  /** An update of a slot that is still PENDING under this key, and only then. */
  private async updatePendingSlot(
    reservation: ReservationRef,
    update: string,
    names: Record<string, string>,
    values: Record<string, AttributeValue>,
  ): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: marshall(ledgerKeys.slot(reservation.treeId, reservation.transferNumber)),
        UpdateExpression: update,
        ConditionExpression: '#status = :pending AND idempotencyKey = :key',
        ExpressionAttributeNames: { ...names, '#status': 'status', '#pendingSlot': PENDING_SLOT },
        ExpressionAttributeValues: { ...values, ':pending': { S: STATUS.pending }, ':key': { S: reservation.idempotencyKey } },
      }),
    );
  }

  private async transact(items: TransactWriteItem[]): Promise<void> {
    await this.client.send(new TransactWriteItemsCommand({ TransactItems: items }));
  }

  private async batchGet(keys: Record<string, string>[]): Promise<Record<string, unknown>[]> {
    let pending: Record<string, AttributeValue>[] | undefined = keys.map((key) => marshall(key));
    const items: Record<string, unknown>[] = [];
    for (let attempt = 0; pending?.length; attempt += 1) {
      if (attempt > UNPROCESSED_RETRIES) throw new Error('The ledger left keys unprocessed after retries');
      if (attempt > 0) await backOff(attempt);
      const output: BatchGetItemCommandOutput = await this.client.send(
        new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } } }),
      );
      items.push(...(output.Responses?.[this.tableName] ?? []).map((item) => unmarshall(item)));
      pending = output.UnprocessedKeys?.[this.tableName]?.Keys;
    }
    return items;
  }

  /** Rounded up: the retention is a minimum the contract promises. */
  private expiryFrom(at: Date): number {
    return Math.ceil(at.getTime() / 1000) + this.retentionDays * 86_400;
  }
}

function intentOf(item: Record<string, unknown>, idempotencyKey: string): Intent | undefined {
  const { status, payloadHash, treeId, transferNumber, transfersInTree, fromContactId, intendedAt, toContactId, toContactArn } = item;
  if (status !== STATUS.pending && status !== STATUS.transferred && status !== STATUS.released) return undefined;
  if (typeof payloadHash !== 'string' || typeof treeId !== 'string' || typeof transferNumber !== 'number' || typeof fromContactId !== 'string') return undefined;
  return {
    idempotencyKey,
    fromContactId,
    status,
    payloadHash,
    treeId,
    transferNumber,
    // An intent written before the count was kept apart: its slot number, an upper bound of the count.
    transfersInTree: typeof transfersInTree === 'number' ? transfersInTree : transferNumber,
    intendedAt: new Date(typeof intendedAt === 'string' ? intendedAt : 0),
    ...(typeof toContactId === 'string' && typeof toContactArn === 'string' && { result: { ContactId: toContactId, ContactArn: toContactArn } }),
  };
}

/**
 * Whether a cancelled transaction's action at `index` met another transaction on its item at the same time
 * (CancellationReason code TransactionConflict): on a contact's item, another reservation or settlement of it.
 */
function isConflictOn(error: unknown, index: number): boolean {
  if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') return false;
  return (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons?.[index]?.Code === 'TransactionConflict';
}

/** What a transfer's records keep of the request besides its target (contract section 7). */
function requestExtras(request: TransferRequest): Record<string, string | undefined> {
  return { note: request.Note, conditions: conditionsText(request.Conditions) ?? undefined, scheduleId: request.ScheduleId };
}

function keyIsFreeValues(at: Date): Record<string, AttributeValue> {
  return { ':released': { S: STATUS.released }, ':skipped': { S: SKIPPED }, ':now': { S: at.toISOString() } };
}

const OBSERVED_MEMBERS: readonly (keyof ContactSnapshot)[] = [
  'QueueId',
  'EnqueueTimestamp',
  'AgentId',
  'ConnectedToAgentTimestamp',
  'LastPausedTimestamp',
  'ScheduledTimestamp',
];

function skipOf(item: Record<string, unknown>): RecordedSkip | undefined {
  const { status, payloadHash, answeredUntil, condition, expected, message } = item;
  if (status !== SKIPPED || typeof payloadHash !== 'string' || typeof answeredUntil !== 'string') return undefined;
  if (typeof condition !== 'string' || typeof expected !== 'string' || typeof message !== 'string') return undefined;
  const observed = Object.fromEntries(
    OBSERVED_MEMBERS.flatMap((member) => {
      const value = item[`observed${member}`];
      return typeof value === 'string' ? [[member, value]] : [];
    }),
  ) as ContactSnapshot;
  return { payloadHash, answeredUntil: new Date(answeredUntil), failed: { condition: condition as ConditionName, expected, message, observed } };
}

/** Which actions of a cancelled transaction failed their condition; undefined when it failed for another reason. */
function failedConditions(error: unknown): boolean[] | undefined {
  if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') return undefined;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  const failed = reasons.map((reason) => reason.Code === 'ConditionalCheckFailed');
  return failed.some(Boolean) ? failed : undefined;
}

function withoutKey(values: Record<string, AttributeValue>): Record<string, AttributeValue> {
  const { ':key': _unused, ...rest } = values;
  return rest;
}

function backOff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 800) * Math.random()));
}
