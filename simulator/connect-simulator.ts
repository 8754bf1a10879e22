import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer, listen, readBody } from '../local/http-server';
import { emptySeed } from './seed';
import type { Seed, SeedContact, SeedFlow, SeedQueue, SeedUser } from './seed';

/**
 * An Amazon Connect stand-in speaking the restJson1 wire protocol of the five operations the gateway uses, so
 * the real SDK client is what tests and local mode exercise. It keeps state and applies Connect's documented
 * transfer rules, so a request the gateway wrongly let through is refused here as Connect would refuse it.
 */
export type ConnectOperation = 'TransferContact' | 'DescribeContact' | 'DescribeContactFlow' | 'DescribeQueue' | 'DescribeUser';

export type ConnectFault = 'throttle' | 'internal' | { readonly status: number; readonly type: string; readonly message?: string };

export interface SimContact {
  Id: string;
  Channel: string;
  InitiationMethod: string;
  InitialContactId?: string;
  PreviousContactId?: string;
  InitiationTimestamp: number;
  DisconnectTimestamp?: number;
  QueueId?: string;
  /** When the contact entered its queue (epoch seconds); Connect's QueueInfo.EnqueueTimestamp. */
  EnqueueTimestamp?: number;
  AgentId?: string;
  /** When the agent accepted it (epoch seconds); without it the contact is only routed (offered) to AgentId. */
  ConnectedToAgentTimestamp?: number;
  LastPausedTimestamp?: number;
  LastResumedTimestamp?: number;
  /** A scheduled task's start (epoch seconds). */
  ScheduledTimestamp?: number;
}

/** A token bucket: `rate` tokens a second, at most `burst` held. */
export interface OperationQuota {
  readonly rate: number;
  readonly burst: number;
}

/** Per-operation quotas; an operation left out is not throttled. */
export type ConnectQuotas = Partial<Record<ConnectOperation, OperationQuota>>;

/**
 * Connect throttles per account, Region and API with a token bucket (docs/connect-api.md, "Quotas"; Connect API
 * Reference, "Throttling in Amazon Connect APIs"): 2 requests/s with a burst of 5 for most operations, TransferContact
 * and the flow, queue and user descriptions among them. DescribeContact is among the read APIs with a higher quota
 * (secondary sources only, so inferred): 10/s, burst 15 here. Tests that fire many requests pass `UNLIMITED`.
 */
export const CONNECT_DEFAULT_QUOTAS: ConnectQuotas = {
  TransferContact: { rate: 2, burst: 5 },
  DescribeContact: { rate: 10, burst: 15 },
  DescribeContactFlow: { rate: 2, burst: 5 },
  DescribeQueue: { rate: 2, burst: 5 },
  DescribeUser: { rate: 2, burst: 5 },
};
export const UNLIMITED: ConnectQuotas = {};

export interface SimulatorCall {
  readonly operation: ConnectOperation;
  readonly input: Record<string, string>;
  readonly status: number;
  /** What was returned. */
  readonly output?: unknown;
  /** A TransferContact answered from its ClientToken's earlier result, changing nothing. */
  readonly tokenReplay?: boolean;
  /** When the simulator answered, ms since the epoch. */
  readonly at: number;
  /** When the request arrived, before any injected latency: with `at`, the time between two calls is measured. */
  readonly receivedAt: number;
}

export interface ConnectSimulator {
  readonly url: string;
  readonly instanceId: string;
  readonly instanceArn: string;
  /** Every request received, injected failures and token-deduplicated ones included. */
  calls(operation?: ConnectOperation): readonly SimulatorCall[];
  callCount(operation?: ConnectOperation): number;
  /** Transfers that changed state (a token replay is not one). */
  transfersPerformed(): number;
  failNext(operation: ConnectOperation, times: number, fault: ConnectFault): void;
  /** Delay before answering, for one operation or (without one) all, replacing every per-operation delay. */
  setLatency(ms: number, operation?: ConnectOperation): void;
  /** Replaces the quotas (full buckets); `UNLIMITED` turns throttling off. */
  setQuotas(quotas: ConnectQuotas): void;
  /** Requests answered 429 because an operation's quota was used up (injected faults not counted). */
  throttledCount(operation?: ConnectOperation): number;
  contact(id: string): SimContact | undefined;
  addContact(contact: SeedContact): SimContact;
  addFlow(flow: SeedFlow): SeedFlow;
  addQueue(queue: SeedQueue): SeedQueue;
  addUser(user: SeedUser): SeedUser;
  /**
   * An agent accepts an active contact (ConnectedToAgentTimestamp now), or with `undefined` hands it back to its queue:
   * what local mode and the tests use to make the conditions of contract section 11 fail and hold.
   */
  assignAgent(contactId: string, userId: string | undefined): SimContact;
  reset(seed?: Seed): void;
  close(): Promise<void>;
}

/**
 * How long a ClientToken answers with its original result. TransferContact's reference names no window; Connect's
 * contact-starting APIs say "The token is valid for 7 days after creation", and the simulator models that.
 */
export const CLIENT_TOKEN_VALIDITY_MS = 7 * 24 * 60 * 60 * 1000;

/** Connect's documented limit of transfers per contact tree. */
const MAX_TRANSFERS_PER_TREE = 11;
const TRANSFERABLE_CHANNELS = ['TASK', 'EMAIL'];
const TRANSFERABLE_FLOW_TYPES = ['CONTACT_FLOW', 'AGENT_TRANSFER', 'QUEUE_TRANSFER'];

class ConnectError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const notFound = (what: string): ConnectError => new ConnectError(404, 'ResourceNotFoundException', `${what} not found`);
const invalid = (message: string): ConnectError => new ConnectError(400, 'InvalidRequestException', message);
const epochSeconds = (iso: string | undefined): number | undefined => (iso === undefined ? undefined : Date.parse(iso) / 1000);

interface State {
  contacts: Map<string, SimContact>;
  flows: Map<string, SeedFlow>;
  queues: Map<string, SeedQueue>;
  users: Map<string, SeedUser>;
  treeTransfers: Map<string, number>;
  tokens: Map<string, { readonly fingerprint: string; readonly createdAt: number; readonly response: { ContactId: string; ContactArn: string } }>;
}

export interface ConnectSimulatorOptions {
  readonly seed?: Seed;
  readonly port?: number;
  readonly host?: string;
  /** The clock of ClientToken validity; quotas always run on real time. */
  readonly now?: () => number;
  /** @default CONNECT_DEFAULT_QUOTAS */
  readonly quotas?: ConnectQuotas;
}

/** Connect's token bucket for one operation: full at start, refilled continuously. */
export class TokenBucket {
  private tokens: number;

  constructor(
    private readonly quota: OperationQuota,
    private updatedAt = Date.now(),
  ) {
    this.tokens = quota.burst;
  }

  /** Takes a token for a call at `now` (ms since the epoch, never before the last call's): false when none is left. */
  take(now = Date.now()): boolean {
    this.tokens = Math.min(this.quota.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.quota.rate);
    this.updatedAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

const bucketsOf = (quotas: ConnectQuotas): Map<ConnectOperation, TokenBucket> =>
  new Map(Object.entries(quotas).map(([operation, quota]) => [operation as ConnectOperation, new TokenBucket(quota)]));

export async function startConnectSimulator(options: ConnectSimulatorOptions = {}): Promise<ConnectSimulator> {
  const now = options.now ?? Date.now;
  let seed = options.seed ?? emptySeed();
  let quotas = options.quotas ?? CONNECT_DEFAULT_QUOTAS;
  let buckets = bucketsOf(quotas);
  const throttled = new Map<ConnectOperation, number>();
  let state = stateOf(seed);
  let calls: SimulatorCall[] = [];
  let transfers = 0;
  let faults: { operation: ConnectOperation; remaining: number; fault: ConnectFault }[] = [];
  let latency = new Map<ConnectOperation | '*', number>();
  /** Set by TransferContact while it runs, read once it returns. */
  let tokenReplay = false;

  const instanceArn = (): string => seed.instance.arn;
  const arnOf = (kind: string, id: string): string => `${instanceArn()}/${kind}/${id}`;

  /** Connect takes an instance, and the resources in it, by id or by ARN. */
  const idOf = (value: string, kind: string): string => {
    const marker = `/${kind}/`;
    return value.startsWith('arn:') && value.includes(marker) ? value.slice(value.lastIndexOf(marker) + marker.length) : value;
  };
  const checkInstance = (value: string | undefined): void => {
    if (value !== seed.instance.id && value !== seed.instance.arn) throw notFound('Instance');
  };

  const operations: Record<ConnectOperation, (input: Record<string, string>) => unknown> = {
    DescribeContact: ({ InstanceId, ContactId = '' }) => {
      checkInstance(InstanceId);
      const contact = state.contacts.get(idOf(ContactId, 'contact'));
      if (!contact) throw notFound('Contact');
      return {
        Contact: {
          Id: contact.Id,
          Arn: arnOf('contact', contact.Id),
          Channel: contact.Channel,
          InitiationMethod: contact.InitiationMethod,
          InitialContactId: contact.InitialContactId,
          PreviousContactId: contact.PreviousContactId,
          InitiationTimestamp: contact.InitiationTimestamp,
          DisconnectTimestamp: contact.DisconnectTimestamp,
          LastUpdateTimestamp: contact.DisconnectTimestamp ?? contact.InitiationTimestamp,
          ...(contact.QueueId && { QueueInfo: { Id: contact.QueueId, EnqueueTimestamp: contact.EnqueueTimestamp ?? contact.InitiationTimestamp } }),
          ...(contact.AgentId && {
            AgentInfo: { Id: contact.AgentId, ...(contact.ConnectedToAgentTimestamp !== undefined && { ConnectedToAgentTimestamp: contact.ConnectedToAgentTimestamp }) },
          }),
          ...(contact.LastPausedTimestamp !== undefined && { LastPausedTimestamp: contact.LastPausedTimestamp }),
          ...(contact.LastResumedTimestamp !== undefined && { LastResumedTimestamp: contact.LastResumedTimestamp }),
          ...(contact.ScheduledTimestamp !== undefined && { ScheduledTimestamp: contact.ScheduledTimestamp }),
        },
      };
    },
    DescribeContactFlow: ({ InstanceId, ContactFlowId = '' }) => {
      checkInstance(InstanceId);
      const flow = state.flows.get(idOf(ContactFlowId, 'contact-flow'));
      if (!flow) throw notFound('Contact flow');
      if (flow.Status !== 'PUBLISHED') throw new ConnectError(404, 'ContactFlowNotPublishedException', 'The flow is not published');
      return { ContactFlow: { Id: flow.Id, Arn: arnOf('contact-flow', flow.Id), Name: flow.Name, Type: flow.Type, State: flow.State, Status: flow.Status } };
    },
    DescribeQueue: ({ InstanceId, QueueId = '' }) => {
      checkInstance(InstanceId);
      const queue = state.queues.get(idOf(QueueId, 'queue'));
      if (!queue) throw notFound('Queue');
      return { Queue: { QueueId: queue.Id, QueueArn: arnOf('queue', queue.Id), Name: queue.Name, Status: queue.Status } };
    },
    DescribeUser: ({ InstanceId, UserId = '' }) => {
      checkInstance(InstanceId);
      const user = state.users.get(idOf(UserId, 'agent'));
      if (!user) throw notFound('User');
      return { User: { Id: user.Id, Arn: arnOf('agent', user.Id), Username: user.Username } };
    },
    TransferContact: (input) => {
      checkInstance(input.InstanceId);
      const contactId = idOf(input.ContactId ?? '', 'contact');
      const flowId = idOf(input.ContactFlowId ?? '', 'contact-flow');
      const queueId = input.QueueId === undefined ? undefined : idOf(input.QueueId, 'queue');
      const userId = input.UserId === undefined ? undefined : idOf(input.UserId, 'agent');
      const fingerprint = JSON.stringify([contactId, flowId, queueId, userId]);
      // The token is checked before the contact's state: a repeat of an accepted transfer gets the original answer even
      // though the contact has since ended; the same token with another request is Connect's IdempotencyException.
      const previous = input.ClientToken === undefined ? undefined : state.tokens.get(input.ClientToken);
      if (previous && now() - previous.createdAt <= CLIENT_TOKEN_VALIDITY_MS) {
        if (previous.fingerprint !== fingerprint) throw new ConnectError(409, 'IdempotencyException', 'An entity with the same name already exists.');
        tokenReplay = true;
        return previous.response;
      }

      const contact = state.contacts.get(contactId);
      if (!contact) throw notFound('Contact');
      if (contact.DisconnectTimestamp !== undefined) throw new ConnectError(404, 'ResourceNotFoundException', 'The contact has ended');
      if (!TRANSFERABLE_CHANNELS.includes(contact.Channel)) throw invalid(`Only ${TRANSFERABLE_CHANNELS.join(' and ')} contacts can be transferred`);
      if (queueId !== undefined && userId !== undefined) throw invalid('QueueId and UserId cannot both be provided');
      const flow = state.flows.get(flowId);
      if (!flow) throw notFound('Contact flow');
      if (flow.Status !== 'PUBLISHED') throw new ConnectError(404, 'ContactFlowNotPublishedException', 'The flow is not published');
      if (flow.State !== 'ACTIVE' || !TRANSFERABLE_FLOW_TYPES.includes(flow.Type)) throw invalid('The flow cannot be used to transfer this contact');
      if (queueId !== undefined && !state.queues.has(queueId)) throw notFound('Queue');
      if (userId !== undefined && !state.users.has(userId)) throw notFound('User');
      const treeId = contact.InitialContactId ?? contact.Id;
      const made = state.treeTransfers.get(treeId) ?? 0;
      if (made >= MAX_TRANSFERS_PER_TREE) throw new ConnectError(402, 'ServiceQuotaExceededException', 'The contact has reached the maximum number of transfers');

      const nowSeconds = now() / 1000;
      const next: SimContact = {
        Id: randomUUID(),
        Channel: contact.Channel,
        InitiationMethod: 'TRANSFER',
        InitialContactId: treeId,
        PreviousContactId: contact.Id,
        InitiationTimestamp: nowSeconds,
        // A transfer to a queue places the new segment in it; one to an agent routes it to that agent, not yet accepted.
        ...(queueId !== undefined && { QueueId: queueId, EnqueueTimestamp: nowSeconds }),
        ...(userId !== undefined && { AgentId: userId }),
      };
      contact.DisconnectTimestamp = nowSeconds;
      state.contacts.set(next.Id, next);
      state.treeTransfers.set(treeId, made + 1);
      transfers += 1;
      const response = { ContactId: next.Id, ContactArn: arnOf('contact', next.Id) };
      if (input.ClientToken !== undefined) state.tokens.set(input.ClientToken, { fingerprint, createdAt: now(), response });
      return response;
    },
  };

  const server = createServer((request, response) => {
    void handle(request, response);
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const receivedAt = Date.now();
    const body = (await readBody(request)) ?? '';
    const routed = routeOf(request.method ?? 'GET', request.url ?? '/', body);
    if (!routed) return send(response, 404, { Message: 'Unknown operation' }, 'UnknownOperationException');
    const { operation, input } = routed;
    const delay = latency.get(operation) ?? latency.get('*') ?? 0;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));

    const fault = faults.find((candidate) => candidate.operation === operation && candidate.remaining > 0);
    let status = 200;
    let payload: unknown;
    let errorType: string | undefined;
    tokenReplay = false;
    try {
      if (fault) {
        fault.remaining -= 1;
        throw faultError(fault.fault);
      }
      if (buckets.get(operation)?.take() === false) {
        throttled.set(operation, (throttled.get(operation) ?? 0) + 1);
        throw faultError('throttle');
      }
      payload = operations[operation](input);
    } catch (error) {
      const failure = error instanceof ConnectError ? error : new ConnectError(500, 'InternalServiceException', 'Simulator failure');
      status = failure.status;
      errorType = failure.type;
      payload = { Message: failure.message };
    }
    calls.push({ operation, input, status, output: payload, ...((tokenReplay as boolean) ? { tokenReplay: true } : {}), at: Date.now(), receivedAt });
    send(response, status, payload, errorType);
  }

  await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    get instanceId() {
      return seed.instance.id;
    },
    get instanceArn() {
      return seed.instance.arn;
    },
    calls: (operation) => (operation ? calls.filter((call) => call.operation === operation) : [...calls]),
    callCount: (operation) => (operation ? calls.filter((call) => call.operation === operation).length : calls.length),
    transfersPerformed: () => transfers,
    failNext: (operation, times, fault) => void faults.push({ operation, remaining: times, fault }),
    setLatency: (ms, operation) => {
      // Without an operation it is every operation's, so a test's reset also ends an earlier test's per-operation one.
      if (operation === undefined) latency.clear();
      latency.set(operation ?? '*', ms);
    },
    setQuotas: (next) => {
      quotas = next;
      buckets = bucketsOf(quotas);
    },
    throttledCount: (operation) =>
      operation ? (throttled.get(operation) ?? 0) : [...throttled.values()].reduce((sum, count) => sum + count, 0),
    contact: (id) => state.contacts.get(id),
    addContact: (contact) => {
      const added = simContact(contact);
      state.contacts.set(added.Id, added);
      return added;
    },
    addFlow: (flow) => (state.flows.set(flow.Id, flow), flow),
    addQueue: (queue) => (state.queues.set(queue.Id, queue), queue),
    addUser: (user) => (state.users.set(user.Id, user), user),
    assignAgent: (contactId, userId) => {
      const contact = state.contacts.get(contactId);
      if (!contact || contact.DisconnectTimestamp !== undefined) throw new Error(`No active contact ${contactId}`);
      if (userId !== undefined && !state.users.has(userId)) throw new Error(`No user ${userId}`);
      if (userId === undefined) {
        delete contact.AgentId;
        delete contact.ConnectedToAgentTimestamp;
      } else {
        contact.AgentId = userId;
        contact.ConnectedToAgentTimestamp = now() / 1000;
      }
      return contact;
    },
    reset: (next) => {
      seed = next ?? seed;
      state = stateOf(seed);
      calls = [];
      transfers = 0;
      faults = [];
      latency = new Map();
      throttled.clear();
      buckets = bucketsOf(quotas);
    },
    close: () => closeServer(server),
  };
}

function stateOf(seed: Seed): State {
  return {
    contacts: new Map(seed.contacts.map((contact) => [contact.Id, simContact(contact)])),
    flows: new Map(seed.flows.map((flow) => [flow.Id, flow])),
    queues: new Map(seed.queues.map((queue) => [queue.Id, queue])),
    users: new Map(seed.users.map((user) => [user.Id, user])),
    treeTransfers: new Map(),
    tokens: new Map(),
  };
}

function simContact(contact: SeedContact): SimContact {
  const disconnected = epochSeconds(contact.DisconnectTimestamp);
  return {
    Id: contact.Id,
    Channel: contact.Channel,
    InitiationMethod: contact.InitiationMethod ?? 'API',
    InitiationTimestamp: epochSeconds(contact.InitiationTimestamp) ?? Date.now() / 1000,
    ...(contact.InitialContactId && { InitialContactId: contact.InitialContactId }),
    ...(contact.PreviousContactId && { PreviousContactId: contact.PreviousContactId }),
    ...(disconnected !== undefined && { DisconnectTimestamp: disconnected }),
    ...(contact.QueueId && { QueueId: contact.QueueId }),
    ...optionalSeconds('EnqueueTimestamp', contact.EnqueueTimestamp),
    ...(contact.AgentId && { AgentId: contact.AgentId }),
    ...optionalSeconds('ConnectedToAgentTimestamp', contact.ConnectedToAgentTimestamp),
    ...optionalSeconds('LastPausedTimestamp', contact.LastPausedTimestamp),
    ...optionalSeconds('LastResumedTimestamp', contact.LastResumedTimestamp),
    ...optionalSeconds('ScheduledTimestamp', contact.ScheduledTimestamp),
  };
}

function optionalSeconds<K extends string>(member: K, iso: string | undefined): Partial<Record<K, number>> {
  const seconds = epochSeconds(iso);
  return seconds === undefined ? {} : ({ [member]: seconds } as Record<K, number>);
}

/** The REST routes of docs/connect-api.md: describes take ids in the path, TransferContact takes a JSON body. */
function routeOf(method: string, url: string, body: string): { operation: ConnectOperation; input: Record<string, string> } | undefined {
  const segments = url.split('?')[0]?.split('/').filter(Boolean).map(decodeURIComponent) ?? [];
  const [resource, instanceId, id] = segments;
  if (method === 'POST' && segments.join('/') === 'contact/transfer') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body || '{}');
    } catch {
      parsed = {};
    }
    const input = Object.fromEntries(
      Object.entries(typeof parsed === 'object' && parsed !== null ? parsed : {}).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
    );
    return { operation: 'TransferContact', input };
  }
  if (method !== 'GET' || segments.length !== 3 || instanceId === undefined || id === undefined) return undefined;
  const describes: Record<string, [ConnectOperation, string]> = {
    contacts: ['DescribeContact', 'ContactId'],
    'contact-flows': ['DescribeContactFlow', 'ContactFlowId'],
    queues: ['DescribeQueue', 'QueueId'],
    users: ['DescribeUser', 'UserId'],
  };
  const match = resource === undefined ? undefined : describes[resource];
  return match && { operation: match[0], input: { InstanceId: instanceId, [match[1]]: id } };
}

function faultError(fault: ConnectFault): ConnectError {
  if (fault === 'throttle') return new ConnectError(429, 'ThrottlingException', 'Rate exceeded');
  if (fault === 'internal') return new ConnectError(500, 'InternalServiceException', 'Internal service error');
  return new ConnectError(fault.status, fault.type, fault.message ?? fault.type);
}

function send(response: ServerResponse, status: number, payload: unknown, errorType?: string): void {
  response.writeHead(status, {
    'Content-Type': 'application/json',
    'x-amzn-RequestId': randomUUID(),
    ...(errorType && { 'x-amzn-ErrorType': errorType }),
  });
  response.end(JSON.stringify(payload));
}
