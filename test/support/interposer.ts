import { createServer, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer, listen, readBody } from '../../local/http-server';

/**
 * An HTTP proxy between the function and DynamoDB or Connect that sees each request from outside the function:
 * it can fail chosen requests, or let one through and hold its answer, so a test knows the write or the transfer
 * happened and can kill the function before it hears so. Nothing in lambda/ knows it is there.
 */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  /** DynamoDB's operation (the X-Amz-Target action), empty for Connect. */
  readonly operation: string;
  readonly body: string;
}

export type RequestMatcher = (request: SeenRequest) => boolean;

export interface HeldAnswer {
  readonly request: SeenRequest;
  /** Upstream's answer (0 and empty while a delayed request has not been passed on). */
  readonly status: number;
  readonly body: string;
  /** Sends the held answer, if the caller is still there (or passes a delayed request on). */
  release(): void;
}

export interface Interposer {
  readonly url: string;
  /** Answers matching requests with DynamoDB's 500 without passing them on. */
  fail(match: RequestMatcher, times?: number): void;
  /** Passes matching requests on and drops the connection instead of answering, as a network failure would. */
  drop(match: RequestMatcher, times?: number): void;
  /** Passes the next matching request on and holds its answer; resolves once upstream has answered. */
  hold(match: RequestMatcher): Promise<HeldAnswer>;
  /** Holds the next matching request before it reaches upstream (a write still in flight); `release` passes it on. */
  delay(match: RequestMatcher): Promise<HeldAnswer>;
  clear(): void;
  close(): Promise<void>;
}

interface Rule {
  readonly match: RequestMatcher;
  remaining: number;
  readonly kind: 'fail' | 'drop' | 'hold' | 'delay';
  readonly onHeld?: (held: HeldAnswer) => void;
}

export async function startInterposer(upstreamUrl: string): Promise<Interposer> {
  const upstream = new URL(upstreamUrl);
  let rules: Rule[] = [];

  const server = createServer((request, response) => {
    // A killed function drops its connections mid-request: that ends this exchange, not the test.
    handle(request, response).catch(() => response.destroy());
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = (await readBody(request)) ?? '';
    const seen: SeenRequest = {
      method: request.method ?? 'GET',
      path: request.url ?? '/',
      operation: String(request.headers['x-amz-target'] ?? '').split('.').pop() ?? '',
      body,
    };
    const rule = rules.find((candidate) => candidate.remaining > 0 && candidate.match(seen));
    if (rule) rule.remaining -= 1;
    if (rule?.kind === 'fail') {
      response.writeHead(500, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': 'InternalServerError' });
      response.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'Injected failure' }));
      return;
    }
    if (rule?.kind === 'delay') {
      await new Promise<void>((resolve) => rule.onHeld?.({ request: seen, status: 0, body: '', release: resolve }));
    }
    const answer = await forward(upstream, seen, request.headers);
    if (rule?.kind === 'drop') return void request.socket.destroy();
    const send = (): void => {
      if (response.destroyed || response.writableEnded) return;
      response.writeHead(answer.status, answer.headers);
      response.end(answer.body);
    };
    if (rule?.kind === 'hold') rule.onHeld?.({ request: seen, status: answer.status, body: answer.body, release: send });
    else send();
  }

  await listen(server, 0, '127.0.0.1');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    fail: (match, times = Number.POSITIVE_INFINITY) => void rules.push({ match, remaining: times, kind: 'fail' }),
    delay: (match) => new Promise((resolve) => rules.push({ match, remaining: 1, kind: 'delay', onHeld: resolve })),
    drop: (match, times = Number.POSITIVE_INFINITY) => void rules.push({ match, remaining: times, kind: 'drop' }),
    hold: (match) => new Promise((resolve) => rules.push({ match, remaining: 1, kind: 'hold', onHeld: resolve })),
    clear: () => void (rules = []),
    close: () => closeServer(server),
  };
}

function forward(
  upstream: URL,
  seen: SeenRequest,
  headers: IncomingHttpHeaders,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: seen.method, path: seen.path, headers: { ...headers, host: upstream.host } },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () => resolve({ status: incoming.statusCode ?? 500, headers: incoming.headers, body: Buffer.concat(chunks).toString('utf8') }));
        incoming.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(seen.body);
  });
}

/** Requests the gateway makes, told apart by what any implementation of them must send. */
export const gatewayRequests = {
  /** Powertools taking the idempotency lock: a conditional put on the idempotency table. */
  idempotencyLock: (table: string): RequestMatcher => (request) => request.operation === 'PutItem' && request.body.includes(`"${table}"`),
  /** Powertools storing the result. */
  idempotencyCompletion: (table: string): RequestMatcher => (request) =>
    request.operation === 'UpdateItem' && request.body.includes(`"${table}"`),
  /** A ledger write before Connect is asked: a tree slot put as PENDING (a release only updates, a record sets TRANSFERRED). */
  ledgerReservation: (table: string): RequestMatcher => (request) =>
    isWrite(request) &&
    request.body.includes(`"${table}"`) &&
    request.body.includes('"TREE#') &&
    request.body.includes('"Put":') &&
    request.body.includes('"PENDING"') &&
    !request.body.includes('"TRANSFERRED"'),
  /** The ledger write that records a made transfer: the only one that sets a status TRANSFERRED. */
  ledgerRecord: (table: string): RequestMatcher => (request) =>
    isWrite(request) && request.body.includes(`"${table}"`) && request.body.includes('"TRANSFERRED"'),
  /** A retry or a sweep marking a pending slot with the attempt it is about to send (`lastAttemptAt`). */
  attemptStamp: (table: string): RequestMatcher => (request) =>
    request.operation === 'UpdateItem' && request.body.includes(`"${table}"`) && request.body.includes('"lastAttemptAt"'),
  transferContact: (contactId?: string): RequestMatcher => (request) =>
    request.method === 'POST' && request.path === '/contact/transfer' && (contactId === undefined || request.body.includes(`"ContactId":"${contactId}"`)),
};

function isWrite(request: SeenRequest): boolean {
  return ['PutItem', 'UpdateItem', 'BatchWriteItem', 'TransactWriteItems'].includes(request.operation);
}
