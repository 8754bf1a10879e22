import { createServer } from 'node:http';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { closeServer, listen, readBody } from './http-server';
import { EmbeddedTransactions, ReadWriteLock } from './dynamodb-transactions';
import type { TableDefinition } from '../lambda/tables';
import { IDEMPOTENCY_TABLE, LEDGER_TABLE, PENDING_SLOTS_INDEX, SCHEDULES_CONTACT_INDEX, SCHEDULES_TABLE, SCHEDULES_UNARMED_INDEX } from '../lambda/tables';

/** `unreachable` drops the connection (as a network failure would); `internal` answers DynamoDB's 500. */
export type DynamoFault = 'unreachable' | 'internal';

export interface EmbeddedDynamoDb {
  readonly url: string;
  /** Requests received per operation (the X-Amz-Target action), injected failures included. */
  requestCount(operation?: string): number;
  resetCounts(): void;
  failNext(operation: string | '*', times: number, fault: DynamoFault): void;
  clearFaults(): void;
  setLatency(ms: number): void;
  close(): Promise<void>;
}

/**
 * dynalite (in-memory, no Java or Docker) behind a thin front server that can add latency and fail chosen
 * operations, so tests and the benchmark see DynamoDB behave as it does on a bad day.
 */
export async function startEmbeddedDynamoDb(options: { port?: number; host?: string } = {}): Promise<EmbeddedDynamoDb> {
  const store = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => store.listen(0, '127.0.0.1', resolve));
  const forward = store.listeners('request')[0] as RequestListener;
  const storeAddress = store.address() as AddressInfo;
  const transactions = new EmbeddedTransactions(`http://127.0.0.1:${storeAddress.port}`);
  // A transaction runs alone, so no request sees half of one (dynalite has none of its own).
  const isolation = new ReadWriteLock();

  const counts = new Map<string, number>();
  const faults: { operation: string; remaining: number; fault: DynamoFault }[] = [];
  let latencyMs = 0;

  const front = createServer((request: IncomingMessage, response: ServerResponse) => {
    const operation = String(request.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
    counts.set(operation, (counts.get(operation) ?? 0) + 1);
    const fault = faults.find((candidate) => candidate.remaining > 0 && (candidate.operation === operation || candidate.operation === '*'));
    const answer = (): void => {
      if (!fault) return void serve(operation, request, response);
      fault.remaining -= 1;
      if (fault.fault === 'unreachable') return void request.socket.destroy();
      response.writeHead(500, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': 'InternalServerError' });
      response.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'Injected failure' }));
    };
    if (latencyMs > 0) setTimeout(answer, latencyMs);
    else answer();
  });
  async function serve(operation: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (operation !== 'TransactWriteItems') {
      const release = await isolation.acquire(false);
      response.once('close', release);
      return forward(request, response);
    }
    const body = (await readBody(request)) ?? '';
    const release = await isolation.acquire(true);
    try {
      const answer = await transactions.transactWriteItems(body);
      response.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(JSON.stringify(answer.body));
    } catch (error) {
      response.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: String(error) }));
    } finally {
      release();
    }
  }

  const { port, host = '127.0.0.1' } = options;
  await listen(front, port ?? 0, host);
  const address = front.address() as AddressInfo;

  return {
    url: `http://${host}:${address.port}`,
    requestCount: (operation) =>
      operation === undefined ? [...counts.values()].reduce((sum, count) => sum + count, 0) : (counts.get(operation) ?? 0),
    resetCounts: () => counts.clear(),
    failNext: (operation, times, fault) => void faults.push({ operation, remaining: times, fault }),
    clearFaults: () => void faults.splice(0),
    setLatency: (ms) => void (latencyMs = ms),
    close: async () => {
      await closeServer(front);
      await new Promise<void>((resolve) => store.close(() => resolve()));
    },
  };
}

export interface GatewayTableNames {
  readonly idempotency: string;
  readonly ledger: string;
  /** Scheduled transfers' table, when the gateway has them. */
  readonly schedules?: string;
}

/** The deployed tables' key schemas, from the same definitions the stack uses. */
export async function createGatewayTables(client: DynamoDBClient, names: GatewayTableNames): Promise<void> {
  await Promise.all([
    createTable(client, names.idempotency, IDEMPOTENCY_TABLE),
    createTable(client, names.ledger, LEDGER_TABLE, [PENDING_SLOTS_INDEX]),
    ...(names.schedules === undefined ? [] : [createTable(client, names.schedules, SCHEDULES_TABLE, [SCHEDULES_CONTACT_INDEX, SCHEDULES_UNARMED_INDEX])]),
  ]);
}

/** A global secondary index: its keys, and the attributes it projects (all of them when not listed). */
interface IndexDefinition {
  readonly indexName: string;
  readonly partitionKey: string;
  readonly sortKey: string;
  readonly projected?: readonly string[];
}

async function createTable(client: DynamoDBClient, tableName: string, definition: TableDefinition, indexes: readonly IndexDefinition[] = []): Promise<void> {
  const keys = [
    { AttributeName: definition.partitionKey, KeyType: 'HASH' as const },
    ...(definition.sortKey ? [{ AttributeName: definition.sortKey, KeyType: 'RANGE' as const }] : []),
  ];
  const indexKeys = (index: IndexDefinition) => [
    { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
    { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
  ];
  const attributes = new Set([...keys, ...indexes.flatMap(indexKeys)].map(({ AttributeName }) => AttributeName));
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      KeySchema: keys,
      AttributeDefinitions: [...attributes].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
      BillingMode: 'PAY_PER_REQUEST',
      ...(indexes.length > 0 && {
        GlobalSecondaryIndexes: indexes.map((index) => ({
          IndexName: index.indexName,
          KeySchema: indexKeys(index),
          Projection: index.projected ? { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.projected] } : { ProjectionType: 'ALL' },
        })),
      }),
    }),
  );
}
