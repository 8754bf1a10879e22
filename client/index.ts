import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type {
  ContactTransferSchedule,
  ListContactTransferSchedulesRequest,
  ListContactTransferSchedulesResult,
  ScheduleContactTransferRequest,
  ScheduleContactTransferResult,
  ScheduleIdRequest,
} from './schedules';

export * from './schedules';

/**
 * A client for the contact transfer gateway's HTTPS API: transfers (`POST /contact/transfer`, contract section 3.1),
 * their history (section 10) and scheduled transfers (section 12).
 * Self-contained on purpose: apps install this package without pulling in the Lambda's code. What it repeats of the
 * server (request members, reasons) is tied to the server's own definitions by test/client/drift.test.ts.
 */

/** Contract section 2: Connect's own TransferContact members; InstanceId may be omitted (one instance per stack). */
export interface TransferContactRequest {
  readonly InstanceId?: string;
  readonly ContactId: string;
  readonly ContactFlowId: string;
  readonly QueueId?: string;
  readonly UserId?: string;
  /**
   * The idempotency token (contract section 6). Without one the gateway keys the request by its payload
   * (`PAYLOAD_KEY_MEMBERS`), so the same request again within the idempotency window is a replay, not a second transfer.
   */
  readonly ClientToken?: string;
  /** 1-256 printable characters: why, in your words. Kept in the ledger, shown in the history, carried by every event. */
  readonly Note?: string;
  /**
   * Transfer only if the contact is still where you believe it is (contract section 11); otherwise the gateway answers
   * 409 `CONDITION_NOT_MET` (`ConditionalOperationFailedException`), transfers nothing, and publishes one
   * `Contact Transfer Skipped` event.
   */
  readonly Conditions?: TransferConditions;
}

/** All given conditions must hold; at least one must be given. */
export interface TransferConditions {
  /** A queue id or ARN: the contact waits in this queue and no agent has accepted it. */
  readonly InQueue?: string;
  /** No agent has accepted the contact. */
  readonly NotWithAgent?: true;
  /** 1-2592000: the contact has waited in its current queue at least this many seconds. */
  readonly QueuedForSeconds?: number;
}

/** The member names, in Connect's order and then the gateway's own, for callers that build or check requests generically (the CLI does). */
export const TRANSFER_CONTACT_MEMBERS = [
  'InstanceId',
  'ContactId',
  'ContactFlowId',
  'QueueId',
  'UserId',
  'ClientToken',
  'Note',
  'Conditions',
] as const satisfies readonly (keyof TransferContactRequest)[];

/** What the gateway keys a request without a ClientToken by: a contact ends when transferred, so these are the intent. */
export const PAYLOAD_KEY_MEMBERS = ['ContactId', 'ContactFlowId', 'QueueId', 'UserId', 'Note', 'Conditions'] as const satisfies readonly (keyof TransferContactRequest)[];

/** How a call is identified to the gateway's idempotency: for logs, errors and the CLI. */
export function idempotencyKeyOf(clientToken: string | undefined): string {
  return clientToken === undefined ? `payload (${PAYLOAD_KEY_MEMBERS.join(', ')})` : `ClientToken ${clientToken}`;
}

export interface TransferContactResult {
  readonly ContactId: string;
  readonly ContactArn: string;
  /** The gateway answered from its idempotency store: this transfer was made by an earlier request with the same token. */
  readonly replayed: boolean;
}

/** `GET /contact/transfers/{ContactId}` (contract section 10): Connect's List API conventions. */
export interface ListContactTransfersRequest {
  /** Any contact of the tree: the first, one in the middle, or the latest. */
  readonly ContactId: string;
  /** 1-100; the gateway's default is 100. */
  readonly MaxResults?: number;
  /** The NextToken of the previous page. */
  readonly NextToken?: string;
}

/** One recorded transfer, oldest first. */
export interface ContactTransfer {
  readonly TransferNumber: number;
  readonly FromContactId: string;
  readonly ToContactId: string;
  readonly ToContactArn: string;
  readonly ContactFlowId: string;
  readonly QueueId?: string;
  readonly UserId?: string;
  /** The IAM caller ARN (HTTPS), `<source>/<event id>` (EventBridge) or `invoke`. */
  readonly RequestedBy: string;
  readonly Door: 'https' | 'eventbridge' | 'invoke';
  readonly TransferredAt: string;
  /** The request's Note, when it had one. */
  readonly Note?: string;
  /** The schedule that made this transfer, for a scheduled one. */
  readonly ScheduleId?: string;
}

export interface ListContactTransfersResult {
  readonly Transfers: readonly ContactTransfer[];
  /** Present when there is another page. */
  readonly NextToken?: string;
}

/** Reasons of contract section 5, in the order of its table. */
export const CONTRACT_REASONS = [
  'VALIDATION_FAILED',
  'QUEUE_AND_USER_BOTH_SET',
  'CHANNEL_NOT_SUPPORTED',
  'CONTACT_NOT_ACTIVE',
  'FLOW_TYPE_NOT_SUPPORTED',
  'FLOW_NOT_ACTIVE',
  'FLOW_TARGET_MISMATCH',
  'QUEUE_DISABLED',
  'TRANSFER_LIMIT_REACHED',
  'CONDITION_NOT_MET',
  'INSTANCE_NOT_ALLOWED',
  'CONTACT_NOT_FOUND',
  'FLOW_NOT_FOUND',
  'QUEUE_NOT_FOUND',
  'USER_NOT_FOUND',
  'REQUEST_IN_PROGRESS',
  'CLIENT_TOKEN_REUSED',
  'TRANSFER_IN_PROGRESS',
  'SCHEDULE_ALREADY_FIRED',
  'SCHEDULE_LIMIT_REACHED',
  'SCHEDULE_NOT_FOUND',
  'THROTTLED',
  'UPSTREAM_FAILURE',
  'INTERNAL_ERROR',
  'CONNECT_REJECTED',
] as const;
export type ContractReason = (typeof CONTRACT_REASONS)[number];

/**
 * Reasons the deployed API answers with before the Lambda runs (its gateway responses, same body shape):
 * SigV4 and IAM refusals as 403. Its throttling and 5xx use `THROTTLED` and `INTERNAL_ERROR`, a body failing the
 * edge model `VALIDATION_FAILED`, and any other refusal API Gateway's own response type (`UNSUPPORTED_MEDIA_TYPE`, ...).
 */
export const EDGE_REASONS = ['ACCESS_DENIED', 'MISSING_AUTHENTICATION_TOKEN', 'INVALID_SIGNATURE', 'EXPIRED_TOKEN'] as const;
export type EdgeReason = (typeof EDGE_REASONS)[number];

/**
 * Reasons the client adds for answers without the contract's body (an API Gateway without the gateway's own
 * responses, a proxy, the network):
 * - `GATEWAY_REJECTED`: a 4xx, type from `x-amzn-ErrorType`;
 * - `GATEWAY_ERROR`: a 5xx; the transfer may have happened, so a retry with the same ClientToken is the safe way
 *   to find out;
 * - `NETWORK_ERROR`: no HTTP answer at all (status 0);
 * - `INVALID_RESPONSE`: a 2xx whose body is not the operation's result (`{ContactId, ContactArn}` for a transfer);
 * - `CREDENTIALS_ERROR`: no AWS credentials to sign with (status 0, nothing was sent).
 * A 429 without the contract's body is reported as `THROTTLED`, as the gateway's own would be.
 */
export const CLIENT_REASONS = ['GATEWAY_REJECTED', 'GATEWAY_ERROR', 'NETWORK_ERROR', 'INVALID_RESPONSE', 'CREDENTIALS_ERROR'] as const;
export type ClientReason = (typeof CLIENT_REASONS)[number];

/** The known reasons, and any other response type a future API Gateway may name (`string & {}` keeps completion). */
export type TransferContactReason = ContractReason | EdgeReason | ClientReason | (string & {});

export interface FieldError {
  readonly Field: string;
  readonly Message: string;
}

export class TransferContactError extends Error {
  /** Connect's error name (`ResourceNotFoundException`, ...), so code that handles Connect's errors handles these. */
  readonly type: string;
  readonly reason: TransferContactReason;
  /** HTTP status; 0 when no HTTP answer arrived. */
  readonly status: number;
  /** `x-amzn-RequestId`, for the gateway's logs. */
  readonly requestId: string | undefined;
  readonly fields: readonly FieldError[] | undefined;
  /**
   * The token that was sent; retrying with it can never transfer twice. Undefined when the call had none: then the
   * same request again (same ContactId, ContactFlowId, QueueId, UserId) is the safe retry.
   */
  readonly clientToken: string | undefined;
  readonly attempts: number;
  /** Reads have no idempotency key to report. */
  readonly operation: GatewayOperation;

  constructor(init: {
    type: string;
    reason: TransferContactReason;
    message: string;
    status: number;
    requestId?: string | undefined;
    fields?: readonly FieldError[] | undefined;
    clientToken: string | undefined;
    attempts: number;
    operation?: GatewayOperation;
    cause?: unknown;
  }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'TransferContactError';
    this.type = init.type;
    this.reason = init.reason;
    this.status = init.status;
    this.requestId = init.requestId;
    this.fields = init.fields;
    this.clientToken = init.clientToken;
    this.attempts = init.attempts;
    this.operation = init.operation ?? 'TransferContact';
  }

  /** Whether the same request (same ClientToken) may succeed later. */
  get retryable(): boolean {
    return isRetryable(this.status, this.reason);
  }

  /** The contract's error body plus what the client knows, for logs and the CLI. */
  toJSON(): Record<string, unknown> {
    return {
      Type: this.type,
      ReasonCode: this.reason,
      Message: this.message,
      ...(this.fields && { Fields: this.fields }),
      Status: this.status,
      ...(this.requestId && { RequestId: this.requestId }),
      Retryable: this.retryable,
      Attempts: this.attempts,
      ...(IDEMPOTENT_OPERATIONS.has(this.operation) &&
        (this.clientToken === undefined ? { IdempotencyKey: idempotencyKeyOf(undefined) } : { ClientToken: this.clientToken })),
    };
  }
}

export type GatewayOperation =
  | 'TransferContact'
  | 'ListContactTransfers'
  | 'ScheduleContactTransfer'
  | 'GetContactTransferSchedule'
  | 'ListContactTransferSchedules'
  | 'CancelContactTransferSchedule';

/** The operations keyed by a ClientToken or their payload, whose errors say which key a safe retry reuses. */
const IDEMPOTENT_OPERATIONS: ReadonlySet<GatewayOperation> = new Set(['TransferContact', 'ScheduleContactTransfer']);

export function isTransferContactError(error: unknown): error is TransferContactError {
  return error instanceof TransferContactError;
}

type SignerInit = ConstructorParameters<typeof SignatureV4>[0];
/** Static credentials or a provider (the SDK's own types, without depending on @smithy/types directly). */
export type CredentialsOption = SignerInit['credentials'];
type SignableRequest = Parameters<SignatureV4['sign']>[0];

export interface TransferClientOptions {
  /**
   * The API's base URL, its stage included: the stack's `ApiEndpoint` output,
   * `https://<api-id>.execute-api.<region>.amazonaws.com/prod`. The client adds the route (`/contact/transfer`).
   */
  readonly endpoint: string;
  /**
   * The API's Region, part of the SigV4 scope. Default: the Region an execute-api host name carries
   * (`<api-id>.execute-api.<region>.amazonaws.com`); an endpoint on a custom domain needs it.
   */
  readonly region?: string;
  /**
   * Defaults to the AWS SDK's default provider chain (environment, SSO, profiles, container and instance roles). A
   * local endpoint (local mode on localhost or 127.0.0.1, which checks no signature) is sent unsigned unless
   * credentials are given here.
   */
  readonly credentials?: CredentialsOption;
  /** Attempts per call, the first included. Default 3, as the AWS SDKs' standard retry mode. */
  readonly maxAttempts?: number;
  /** Backoff before retry n is a random delay in [0, min(maxDelayMs, baseDelayMs * 2^(n-1))). Default 200 ms. */
  readonly baseDelayMs?: number;
  /** Default 5000 ms. */
  readonly maxDelayMs?: number;
  /** Per attempt. API Gateway itself gives up after 29 s. Default 35000 ms. */
  readonly requestTimeoutMs?: number;
  readonly fetch?: typeof fetch;
}

export interface TransferCallOptions {
  readonly signal?: AbortSignal;
}

export interface TransferClient {
  transferContact(request: TransferContactRequest, options?: TransferCallOptions): Promise<TransferContactResult>;
  /** One page of the transfer history of the contact's tree; reads are retried like transfers. */
  listContactTransfers(request: ListContactTransfersRequest, options?: TransferCallOptions): Promise<ListContactTransfersResult>;
  /** Every page, following NextToken, as the AWS SDKs' `paginate*` helpers do: `for await (const page of ...)`. */
  paginateContactTransfers(request: ListContactTransfersRequest, options?: TransferCallOptions): AsyncIterable<ListContactTransfersResult>;
  /**
   * Runs the transfer later (contract section 12), idempotent as transferContact: without a ClientToken the same
   * request again names the same schedule. Rules 1-3 are checked now, the rest when it fires.
   */
  scheduleContactTransfer(request: ScheduleContactTransferRequest, options?: TransferCallOptions): Promise<ScheduleContactTransferResult>;
  /** Its state, and once it fired, the outcome. Unknown id: `SCHEDULE_NOT_FOUND` (404). */
  getContactTransferSchedule(request: ScheduleIdRequest, options?: TransferCallOptions): Promise<ContactTransferSchedule>;
  /** One page of a contact's schedules, oldest first; an unknown contact has none. */
  listContactTransferSchedules(request: ListContactTransferSchedulesRequest, options?: TransferCallOptions): Promise<ListContactTransferSchedulesResult>;
  paginateContactTransferSchedules(request: ListContactTransferSchedulesRequest, options?: TransferCallOptions): AsyncIterable<ListContactTransferSchedulesResult>;
  /**
   * Once resolved, the schedule never transfers; cancelling a cancelled one resolves too. One that already fired:
   * `SCHEDULE_ALREADY_FIRED` (409).
   */
  cancelContactTransferSchedule(request: ScheduleIdRequest, options?: TransferCallOptions): Promise<void>;
}

const DEFAULTS = { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 5000, requestTimeoutMs: 35_000 };
const TRANSFER_PATH = '/contact/transfer';
const HISTORY_PATH = '/contact/transfers/';
const SCHEDULES_PATH = '/contact/transfer/schedules';

/** One HTTP exchange with the gateway, as the client signs and sends it. */
interface GatewayCall {
  readonly operation: GatewayOperation;
  readonly method: 'POST' | 'GET' | 'DELETE';
  readonly url: URL;
  readonly body?: string;
  readonly clientToken: string | undefined;
}

interface GatewayAnswer {
  readonly response: Response;
  readonly text: string;
  readonly requestId: string | undefined;
}

export function createTransferClient(options: TransferClientOptions): TransferClient {
  const base = baseUrl(options.endpoint);
  const route = (path: string): URL => {
    const url = new URL(base);
    url.pathname = `${base.pathname.replace(/\/+$/, '')}${path}`;
    return url;
  };
  const transferUrl = route(TRANSFER_PATH);
  const maxAttempts = positiveInteger(options.maxAttempts ?? DEFAULTS.maxAttempts, 'maxAttempts');
  const baseDelayMs = Math.max(0, options.baseDelayMs ?? DEFAULTS.baseDelayMs);
  const maxDelayMs = Math.max(0, options.maxDelayMs ?? DEFAULTS.maxDelayMs);
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs;
  const send = options.fetch ?? globalThis.fetch;
  const signer = requestSigner(base, options);

  async function attempt(call: GatewayCall, attempts: number, signal: AbortSignal | undefined): Promise<GatewayAnswer> {
    const { url, body, clientToken, operation } = call;
    const unsigned: SignableRequest = {
      method: call.method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port && { port: Number(url.port) }),
      // Sent percent-encoded once; the signer encodes the path again for the canonical request, as SigV4 wants.
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      // Host is signed, so it must be exactly what fetch will send: the URL's host, port included.
      headers: { host: url.host, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body }),
    };
    let signed: SignableRequest;
    try {
      signed = signer ? await signer.sign(unsigned) : unsigned;
    } catch (error) {
      throw new TransferContactError({
        type: errorName(error) ?? 'CredentialsError',
        reason: 'CREDENTIALS_ERROR',
        message: `Could not sign the request: ${error instanceof Error ? error.message : String(error)}`,
        status: 0,
        clientToken,
        attempts,
        operation,
        cause: error,
      });
    }
    // fetch derives Host from the URL and refuses to be told it.
    const { host: _host, ...headers } = signed.headers;
    const timeout = AbortSignal.timeout(requestTimeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await send(url.href, {
        method: call.method,
        headers,
        ...(body !== undefined && { body }),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      text = await response.text();
    } catch (error) {
      // The caller's own abort ends the call; anything else on the way (DNS, reset, timeout) is worth another attempt.
      if (signal?.aborted) throw signal.reason;
      throw new TransferContactError({
        type: errorName(error) ?? 'NetworkError',
        reason: 'NETWORK_ERROR',
        message: `No answer from ${url.host}: ${describeNetworkError(error)}`,
        status: 0,
        clientToken,
        attempts,
        operation,
        cause: error,
      });
    }
    const requestId = response.headers.get('x-amzn-requestid') ?? undefined;
    if (response.ok) return { response, text, requestId };
    throw errorOf(response, text, { clientToken, attempts, requestId, operation });
  }

  /** Every attempt sends the same request, so a transfer's attempts share one idempotency key. */
  async function withRetries<T>(call: GatewayCall, signal: AbortSignal | undefined, read: (answer: GatewayAnswer, attempts: number) => T): Promise<T> {
    for (let attempts = 1; ; attempts += 1) {
      try {
        return read(await attempt(call, attempts, signal), attempts);
      } catch (error) {
        if (!(error instanceof TransferContactError) || !error.retryable || attempts >= maxAttempts) throw error;
        await sleep(fullJitter(attempts, baseDelayMs, maxDelayMs), signal);
      }
    }
  }

  /** Reads send no idempotency key; a GET or DELETE is safe to repeat as it is. */
  function keyless(operation: GatewayOperation, method: GatewayCall['method'], url: URL): GatewayCall {
    return { operation, method, url, clientToken: undefined };
  }

  function answered<T>(call: GatewayCall, signal: AbortSignal | undefined, read: (response: Response, text: string, context: AnswerContext) => T): Promise<T> {
    return withRetries(call, signal, ({ response, text, requestId }, attempts) =>
      read(response, text, { clientToken: call.clientToken, attempts, requestId, operation: call.operation }),
    );
  }

  function listContactTransfers(request: ListContactTransfersRequest, callOptions: TransferCallOptions = {}): Promise<ListContactTransfersResult> {
    const url = withPage(route(`${HISTORY_PATH}${encodeURIComponent(request.ContactId)}`), request);
    return answered(keyless('ListContactTransfers', 'GET', url), callOptions.signal, historyOf);
  }

  function listContactTransferSchedules(request: ListContactTransferSchedulesRequest, callOptions: TransferCallOptions = {}): Promise<ListContactTransferSchedulesResult> {
    const url = route(SCHEDULES_PATH);
    url.searchParams.set('ContactId', request.ContactId);
    return answered(keyless('ListContactTransferSchedules', 'GET', withPage(url, request)), callOptions.signal, schedulePageOf);
  }

  const scheduleUrl = ({ ScheduleId }: ScheduleIdRequest): URL => route(`${SCHEDULES_PATH}/${encodeURIComponent(ScheduleId)}`);

  /**
   * No token is made up here: without one the gateway keys the request by its payload, so the same call made again
   * (a re-run command, a restarted job) is a replay; a fresh token per call would make it a second transfer.
   */
  const idempotent = (operation: GatewayOperation, url: URL, request: TransferContactRequest): GatewayCall => ({
    operation,
    method: 'POST',
    url,
    body: JSON.stringify(request),
    clientToken: request.ClientToken,
  });

  return {
    transferContact(request, callOptions = {}) {
      return answered(idempotent('TransferContact', transferUrl, request), callOptions.signal, successOf);
    },
    listContactTransfers,
    paginateContactTransfers(request, callOptions = {}) {
      return paginate(listContactTransfers, request, callOptions);
    },
    scheduleContactTransfer(request, callOptions = {}) {
      return answered(idempotent('ScheduleContactTransfer', route(SCHEDULES_PATH), request), callOptions.signal, scheduledOf);
    },
    getContactTransferSchedule(request, callOptions = {}) {
      return answered(keyless('GetContactTransferSchedule', 'GET', scheduleUrl(request)), callOptions.signal, scheduleOf);
    },
    listContactTransferSchedules,
    paginateContactTransferSchedules(request, callOptions = {}) {
      return paginate(listContactTransferSchedules, request, callOptions);
    },
    async cancelContactTransferSchedule(request, callOptions = {}) {
      await answered(keyless('CancelContactTransferSchedule', 'DELETE', scheduleUrl(request)), callOptions.signal, () => undefined);
    },
  };
}

interface PageRequest {
  readonly MaxResults?: number;
  readonly NextToken?: string;
}

/** Connect's List API query members (contract section 10), for every list route. */
function withPage(url: URL, request: PageRequest): URL {
  if (request.MaxResults !== undefined) url.searchParams.set('MaxResults', String(request.MaxResults));
  if (request.NextToken !== undefined) url.searchParams.set('NextToken', request.NextToken);
  return url;
}

/** Every page, following NextToken, as the AWS SDKs' `paginate*` helpers do. */
async function* paginate<Request extends PageRequest, Page extends { readonly NextToken?: string }>(
  list: (request: Request, options: TransferCallOptions) => Promise<Page>,
  request: Request,
  options: TransferCallOptions,
): AsyncIterable<Page> {
  let nextToken = request.NextToken;
  do {
    const page = await list({ ...request, ...(nextToken !== undefined && { NextToken: nextToken }) }, options);
    yield page;
    nextToken = page.NextToken;
  } while (nextToken !== undefined);
}

/** Capped exponential backoff with full jitter: spreads the retries of many callers hit by the same throttle. */
export function fullJitter(retry: number, baseDelayMs: number, maxDelayMs: number): number {
  return Math.floor(Math.random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (retry - 1)));
}

function isRetryable(status: number, reason: TransferContactReason): boolean {
  if (reason === 'CREDENTIALS_ERROR' || reason === 'INVALID_RESPONSE') return false;
  return status === 0 || status === 429 || status >= 500 || reason === 'REQUEST_IN_PROGRESS' || reason === 'TRANSFER_IN_PROGRESS';
}

function baseUrl(endpoint: string): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new TypeError(`endpoint must be an absolute URL such as https://<api-id>.execute-api.<region>.amazonaws.com/prod, not '${endpoint}'`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError(`endpoint must be an http(s) URL, not '${endpoint}'`);
  if (url.search || url.hash) throw new TypeError(`endpoint must not have a query or fragment: '${endpoint}'`);
  // The routes are the client's to add; given a route's own URL it would request /contact/transfer/contact/transfer.
  if (url.pathname.replace(/\/+$/, '').endsWith(TRANSFER_PATH)) {
    throw new TypeError(`endpoint is the API's base URL with its stage (the stack's ApiEndpoint output), without ${TRANSFER_PATH}: not '${endpoint}'`);
  }
  return url;
}

/**
 * SigV4 for execute-api, or none for a local endpoint called without credentials: local mode stands in for API
 * Gateway without its IAM check, so it needs neither a Region nor credentials. Given credentials, a local endpoint
 * is signed too (a test's stand-in for IAM checks the signature).
 */
function requestSigner(base: URL, options: TransferClientOptions): SignatureV4 | undefined {
  const local = isLocalEndpoint(base);
  if (local && options.credentials === undefined) return undefined;
  const region = options.region ?? regionOfEndpoint(base) ?? (local ? LOCAL_SIGNING_REGION : undefined);
  if (region === undefined) {
    throw new TypeError(`region is required for ${base.host}: only an execute-api host name (<api-id>.execute-api.<region>.amazonaws.com) names the API's Region`);
  }
  return new SignatureV4({ service: 'execute-api', region, credentials: options.credentials ?? defaultProvider(), sha256: Hash.bind(null, 'sha256') });
}

/** Local mode checks no signature, so any Region signs for it. */
const LOCAL_SIGNING_REGION = 'us-east-1';

/** localhost and the loopback addresses, where local mode listens: requests that never reach AWS. */
export function isLocalEndpoint(endpoint: URL): boolean {
  const host = endpoint.hostname;
  return host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** `https://<api-id>.execute-api.<region>.amazonaws.com[.cn]/...` names its Region; custom domains do not. */
export function regionOfEndpoint(endpoint: URL): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(endpoint.hostname)?.[1];
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`${name} must be a positive integer, not ${value}`);
  return value;
}

interface AnswerContext {
  readonly clientToken: string | undefined;
  readonly attempts: number;
  readonly requestId: string | undefined;
  readonly operation: GatewayOperation;
}

/** A 2xx body the operation can use, or INVALID_RESPONSE naming the shape it lacked. */
function bodyOf<T>(response: Response, text: string, context: AnswerContext, shape: string, fits: (body: Record<string, unknown>) => boolean): T {
  const body = parseJson(text);
  if (!isRecord(body) || !fits(body)) {
    throw new TransferContactError({
      type: 'InvalidResponse',
      reason: 'INVALID_RESPONSE',
      message: `The gateway answered ${response.status} without ${shape}.`,
      status: response.status,
      ...context,
    });
  }
  return body as T;
}

const replayedOf = (response: Response): boolean => response.headers.get('idempotent-replayed') === 'true';
const areStrings = (body: Record<string, unknown>, members: readonly string[]): boolean => members.every((member) => typeof body[member] === 'string');
const hasNextToken = (body: Record<string, unknown>): boolean => body.NextToken === undefined || typeof body.NextToken === 'string';

function successOf(response: Response, text: string, context: AnswerContext): TransferContactResult {
  const { ContactId, ContactArn } = bodyOf<TransferContactResult>(response, text, context, '{ContactId, ContactArn}', (body) => areStrings(body, ['ContactId', 'ContactArn']));
  return { ContactId, ContactArn, replayed: replayedOf(response) };
}

function scheduledOf(response: Response, text: string, context: AnswerContext): ScheduleContactTransferResult {
  const { ScheduleId, ContactId, At, State } = bodyOf<ScheduleContactTransferResult>(
    response,
    text,
    context,
    '{ScheduleId, ContactId, At, State}',
    (body) => areStrings(body, SCHEDULE_MEMBERS) && body.State === 'SCHEDULED',
  );
  return { ScheduleId, ContactId, At, State, replayed: replayedOf(response) };
}

/** What every schedule answer carries, whatever its state. */
const SCHEDULE_MEMBERS = ['ScheduleId', 'ContactId', 'At', 'State'] as const;
const isSchedule = (body: unknown): boolean => isRecord(body) && areStrings(body, [...SCHEDULE_MEMBERS, 'CreatedAt']) && isRecord(body.Request);

function scheduleOf(response: Response, text: string, context: AnswerContext): ContactTransferSchedule {
  return bodyOf(response, text, context, 'a schedule {ScheduleId, ContactId, At, State, CreatedAt, Request}', isSchedule);
}

function schedulePageOf(response: Response, text: string, context: AnswerContext): ListContactTransferSchedulesResult {
  const { Schedules, NextToken } = bodyOf<ListContactTransferSchedulesResult>(response, text, context, '{Schedules, NextToken?}', (body) => Array.isArray(body.Schedules) && body.Schedules.every(isSchedule) && hasNextToken(body));
  return { Schedules, ...(NextToken !== undefined && { NextToken }) };
}

/**
 * The contract's `{Type, ReasonCode, Message, Fields?}` when the Lambda or the API's gateway responses answered; otherwise
 * a bare API Gateway's answer (`{"message": ...}`, type in `x-amzn-ErrorType`), which carries no reason.
 */
function errorOf(response: Response, text: string, context: AnswerContext): TransferContactError {
  const body = parseJson(text);
  const status = response.status;
  if (isRecord(body) && typeof body.Type === 'string' && typeof body.ReasonCode === 'string') {
    return new TransferContactError({
      type: body.Type,
      reason: body.ReasonCode,
      message: typeof body.Message === 'string' ? body.Message : `The gateway answered ${status} ${body.ReasonCode}.`,
      status,
      fields: fieldsOf(body.Fields),
      ...context,
    });
  }
  // API Gateway sends `x-amzn-ErrorType: AccessDeniedException:http://internal.amazon.com/coral/...` at times.
  const headerType = response.headers.get('x-amzn-errortype')?.split(':')[0]?.trim();
  const bodyMessage = isRecord(body) ? (body.message ?? body.Message) : undefined;
  const reason: TransferContactReason = status === 429 ? 'THROTTLED' : status >= 500 ? 'GATEWAY_ERROR' : 'GATEWAY_REJECTED';
  const fallbackType = status === 429 ? 'ThrottlingException' : status >= 500 ? 'InternalServiceException' : 'HttpError';
  return new TransferContactError({
    type: headerType || fallbackType,
    reason,
    message: typeof bodyMessage === 'string' && bodyMessage ? bodyMessage : `API Gateway answered ${status}${response.statusText ? ` ${response.statusText}` : ''}.`,
    status,
    ...context,
  });
}

function historyOf(response: Response, text: string, context: AnswerContext): ListContactTransfersResult {
  const { Transfers, NextToken } = bodyOf<ListContactTransfersResult>(response, text, context, '{Transfers, NextToken?}', (body) => Array.isArray(body.Transfers) && body.Transfers.every(isRecord) && hasNextToken(body));
  return { Transfers, ...(NextToken !== undefined && { NextToken }) };
}

function fieldsOf(value: unknown): readonly FieldError[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.filter((item): item is FieldError => isRecord(item) && typeof item.Field === 'string' && typeof item.Message === 'string');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error && error.name !== 'Error' ? error.name : undefined;
}

/** fetch reports every failure as "fetch failed"; the cause (ECONNREFUSED, ENOTFOUND, timeout) is what helps. */
function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (cause instanceof Error) return `${error.message} (${'code' in cause && typeof cause.code === 'string' ? `${cause.code}: ` : ''}${cause.message})`;
  return error.message;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
