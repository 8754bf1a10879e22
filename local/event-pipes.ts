import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue, DynamoDBClient, ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import { LEDGER_TABLE } from '../lambda/tables';
import { TRANSFER_EVENT_PIPES } from '../lib/transfer-events';
import type { PipeDefinition } from '../lib/transfer-events';

/**
 * The transfer events locally: what DynamoDB Streams and the two EventBridge Pipes of the stack do, with the very
 * filters and input templates the stack deploys (lib/transfer-events.ts). dynalite has no streams, so the stream is
 * modelled by scanning the ledger table and comparing each item with the last image seen (INSERT for a new key,
 * MODIFY for a changed item), in the stream's own record shape.
 */
export interface StreamRecord {
  readonly eventName: 'INSERT' | 'MODIFY';
  readonly dynamodb: {
    readonly Keys: Record<string, AttributeValue>;
    readonly NewImage: Record<string, AttributeValue>;
    readonly OldImage?: Record<string, AttributeValue>;
  };
}

export interface PublishedEvent {
  readonly id: string;
  readonly source: string;
  readonly 'detail-type': string;
  readonly time: string;
  readonly detail: unknown;
}

export interface TransferEventsModel {
  readonly published: readonly PublishedEvent[];
  /** Reads the stream up to now and publishes what the pipes let through. */
  flush(): Promise<void>;
  onPublish(listener: (event: PublishedEvent) => void): void;
  stop(): Promise<void>;
}

export function startTransferEvents(client: DynamoDBClient, tableName: string, source: string, pollMs = 250): TransferEventsModel {
  const seen = new Map<string, string>();
  const published: PublishedEvent[] = [];
  const listeners: ((event: PublishedEvent) => void)[] = [];
  let reading: Promise<void> = Promise.resolve();

  const read = async (): Promise<void> => {
    const records: StreamRecord[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const output: ScanCommandOutput = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: startKey, ConsistentRead: true }));
      for (const item of output.Items ?? []) {
        const keys = keysOf(item);
        const id = JSON.stringify(keys);
        const image = JSON.stringify(item);
        const before = seen.get(id);
        if (before === image) continue;
        seen.set(id, image);
        records.push(
          before === undefined
            ? { eventName: 'INSERT', dynamodb: { Keys: keys, NewImage: item } }
            : { eventName: 'MODIFY', dynamodb: { Keys: keys, NewImage: item, OldImage: JSON.parse(before) as Record<string, AttributeValue> } },
        );
      }
      startKey = output.LastEvaluatedKey;
    } while (startKey);
    for (const record of records) {
      for (const pipe of TRANSFER_EVENT_PIPES) {
        if (!passes(pipe, record)) continue;
        const event = { id: randomUUID(), source, 'detail-type': pipe.detailType, time: new Date().toISOString(), detail: JSON.parse(renderTemplate(pipe.inputTemplate, record)) as unknown };
        published.push(event);
        listeners.forEach((listener) => listener(event));
      }
    }
  };
  const flush = (): Promise<void> => (reading = reading.then(read, read));
  const timer = setInterval(() => void flush().catch(() => undefined), pollMs);
  return {
    published,
    flush,
    onPublish: (listener) => void listeners.push(listener),
    stop: async () => {
      clearInterval(timer);
      await reading.catch(() => undefined);
    },
  };
}

function keysOf(item: Record<string, AttributeValue>): Record<string, AttributeValue> {
  const names = [LEDGER_TABLE.partitionKey, ...(LEDGER_TABLE.sortKey ? [LEDGER_TABLE.sortKey] : [])];
  return Object.fromEntries(names.map((name) => [name, item[name] ?? { NULL: true }]));
}

export function passes(pipe: PipeDefinition, record: StreamRecord): boolean {
  return pipe.filters.some((pattern) => matches(pattern, record));
}

/**
 * The subset of EventBridge's pattern language the pipes use: exact values, `prefix` and `anything-but`, nested
 * objects. A field the pattern names but the record lacks does not match (EventBridge user guide, "Event patterns").
 */
export function matches(pattern: unknown, value: unknown): boolean {
  if (Array.isArray(pattern)) {
    if (value === undefined || value === null || typeof value === 'object') return false;
    return pattern.some((matcher: unknown) => {
      if (typeof matcher !== 'object' || matcher === null) return matcher === value;
      if ('prefix' in matcher) return typeof value === 'string' && value.startsWith(String(matcher.prefix));
      if ('anything-but' in matcher) {
        const excluded = matcher['anything-but'];
        return !(Array.isArray(excluded) ? excluded : [excluded]).includes(value);
      }
      return false;
    });
  }
  if (typeof pattern !== 'object' || pattern === null) return false;
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(pattern).every(([key, inner]) => matches(inner, (value as Record<string, unknown>)[key]));
}

/**
 * Pipes' input transformation for the templates above: a quoted `"<$.path>"` becomes the JSON string of the value,
 * an unquoted `<$.path>` the value itself. A path the record lacks (no QueueId on a transfer to an agent) gives an
 * empty string when quoted and null otherwise; the user guide does not say, so this is our reading.
 */
export function renderTemplate(template: string, record: StreamRecord): string {
  const valueAt = (path: string): unknown =>
    path
      .replace(/^\$\./, '')
      .split('.')
      .reduce<unknown>((node, key) => (typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined), record);
  return template
    .replace(/"<(\$\.[\w.-]+)>"/g, (_, path: string) => JSON.stringify(String(valueAt(path) ?? '')))
    .replace(/<(\$\.[\w.-]+)>/g, (_, path: string) => {
      const value = valueAt(path);
      return value === undefined ? 'null' : String(value);
    });
}
