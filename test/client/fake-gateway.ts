import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { ContactTransferSchedule } from '../../client/index';

/**
 * A stand-in for the deployed API, over real HTTP: it records every request as it arrived and answers from a script,
 * so a test asserts what the client sends and how it reads answers the real gateway may give.
 */
export interface ArrivedRequest {
  readonly method: string;
  /** Path without the query, as it arrived (percent-encoding kept). */
  readonly path: string;
  readonly query: URLSearchParams;
  /** The raw query string, for checking a signature over it. */
  readonly rawQuery: string;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
}

export interface ScriptedAnswer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface FakeGateway {
  /** The base URL with a stage, as the stack's ApiEndpoint output has one. */
  readonly url: string;
  readonly requests: ArrivedRequest[];
  /** Answers the next requests in order; when the script runs out, every request gets the last answer again. */
  answer(...answers: ScriptedAnswer[]): void;
  close(): Promise<void>;
}

export const STAGE = '/prod';

/** The contract's error answer (section 5): status, x-amzn-ErrorType and the body. */
export function contractError(status: number, type: string, reasonCode: string, extra: Record<string, unknown> = {}): ScriptedAnswer {
  return { status, headers: { 'x-amzn-ErrorType': type }, body: { Type: type, ReasonCode: reasonCode, Message: `${reasonCode} happened.`, ...extra } };
}

export async function startFakeGateway(): Promise<FakeGateway> {
  const requests: ArrivedRequest[] = [];
  let script: ScriptedAnswer[] = [{ status: 500 }];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const [path = '', rawQuery = ''] = (request.url ?? '').split('?');
      const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(',') : value]));
      requests.push({ method: request.method ?? '', path, query: new URLSearchParams(rawQuery), rawQuery, headers, body: Buffer.concat(chunks).toString('utf8') });
      const next = script.length > 1 ? script.shift()! : script[0]!;
      const body = next.body === undefined ? '' : JSON.stringify(next.body);
      response.writeHead(next.status, { ...(body && { 'content-type': 'application/json' }), 'x-amzn-RequestId': `req-${requests.length}`, ...next.headers });
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${STAGE}`,
    requests,
    answer: (...answers) => {
      script = answers;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** One fake gateway for a test file, its record of requests emptied before each test. */
export function useFakeGateway(): FakeGateway {
  let started: FakeGateway | undefined;
  const current = (): FakeGateway => {
    if (!started) throw new Error('The fake gateway starts in beforeAll; use it inside a test.');
    return started;
  };
  beforeAll(async () => {
    started = await startFakeGateway();
  });
  afterAll(() => started?.close());
  beforeEach(() => {
    current().requests.length = 0;
  });
  return {
    get url() {
      return current().url;
    },
    get requests() {
      return current().requests;
    },
    answer: (...answers) => current().answer(...answers),
    close: () => current().close(),
  };
}

/** A schedule as the gateway answers a create, and as it answers a read of it. */
export const SCHEDULE_ID = 'sch-0123456789abcdef0123456789abcdef';
export const CREATED = { ScheduleId: SCHEDULE_ID, ContactId: 'c-1', At: '2026-12-05T17:30:00Z', State: 'SCHEDULED' } as const;
export const SCHEDULED_REQUEST = { ContactId: 'c-1', ContactFlowId: 'f-1', QueueId: 'q-escalations', Conditions: { InQueue: 'q-billing' } };
export function sampleSchedule(overrides: Partial<ContactTransferSchedule> = {}): ContactTransferSchedule {
  return { ...CREATED, CreatedAt: '2026-12-05T17:00:00Z', Request: SCHEDULED_REQUEST, ...overrides };
}
