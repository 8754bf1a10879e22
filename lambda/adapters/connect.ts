import {
  DescribeContactCommand,
  DescribeContactFlowCommand,
  DescribeQueueCommand,
  DescribeUserCommand,
  TransferContactCommand,
} from '@aws-sdk/client-connect';
import type { ConnectClient } from '@aws-sdk/client-connect';
import type { ConnectInstance } from '../domain/arn';
import { contactArn } from '../domain/arn';
import { TransferError } from '../domain/errors';
import type { TransferRequest } from '../domain/request';
import type { ConnectOperation } from '../metric-names';
import type { ContactFacts, FlowFacts, QueueFacts, UserFacts } from '../domain/facts';
import { TransferNotSent } from '../ports';
import type { ConnectPort, Precondition, TransferResult } from '../ports';
import { TtlCache } from './ttl-cache';

export interface ConnectAdapterOptions {
  /** How long flow, queue and user descriptions are reused; a contact's state is never cached. */
  readonly metadataCacheTtlMs: number;
  readonly maxCachedEntries?: number;
  readonly now?: () => number;
  /** The client TransferContact goes through, when it retries otherwise than the Describe calls' (lambda/clients.ts). */
  readonly transferClient?: ConnectClient;
}

/**
 * Called once per throttled Connect call, for the ConnectThrottles metric: TransferContact's at once (the shared pacer
 * schedules its re-send), a Describe call's after the SDK's retries.
 */
export type ThrottleListener = (operation: ConnectOperation) => void;

export class ConnectAdapter implements ConnectPort {
  private readonly flows: TtlCache<FlowFacts>;
  private readonly queues: TtlCache<QueueFacts>;
  private readonly users: TtlCache<UserFacts>;

  constructor(
    private readonly client: ConnectClient,
    private readonly instance: ConnectInstance,
    private readonly options: ConnectAdapterOptions,
    private readonly onThrottle: ThrottleListener = () => undefined,
  ) {
    const cache = <V>(): TtlCache<V> => new TtlCache<V>(options.metadataCacheTtlMs, options.maxCachedEntries ?? 500, options.now);
    this.flows = cache();
    this.queues = cache();
    this.users = cache();
  }

  async describeContact(contactId: string): Promise<ContactFacts | undefined> {
    const output = await this.read('DescribeContact', () =>
      this.client.send(new DescribeContactCommand({ InstanceId: this.instance.id, ContactId: contactId })),
    );
    const contact = output?.Contact;
    if (!contact) return undefined;
    const { QueueInfo, AgentInfo, LastPausedTimestamp, LastResumedTimestamp, ScheduledTimestamp } = contact;
    const paused = LastPausedTimestamp !== undefined && (LastResumedTimestamp === undefined || LastResumedTimestamp < LastPausedTimestamp);
    const now = new Date(this.options.now?.() ?? Date.now());
    return {
      id: contact.Id ?? contactId,
      channel: contact.Channel ?? 'UNKNOWN',
      ...(contact.InitialContactId && { initialContactId: contact.InitialContactId }),
      disconnected: contact.DisconnectTimestamp !== undefined,
      ...(QueueInfo?.Id && { queue: { id: QueueInfo.Id, ...(QueueInfo.EnqueueTimestamp && { enqueuedAt: QueueInfo.EnqueueTimestamp }) } }),
      ...(AgentInfo?.Id && { agent: { id: AgentInfo.Id, ...(AgentInfo.ConnectedToAgentTimestamp && { connectedAt: AgentInfo.ConnectedToAgentTimestamp }) } }),
      ...(paused && { pausedAt: LastPausedTimestamp }),
      ...(ScheduledTimestamp && ScheduledTimestamp > now && { scheduledFor: ScheduledTimestamp }),
    };
  }

  describeFlow(flowId: string): Promise<FlowFacts> {
    return this.flows.get(
      flowId,
      async () => {
        try {
          const output = await this.read('DescribeContactFlow', () =>
            this.client.send(new DescribeContactFlowCommand({ InstanceId: this.instance.id, ContactFlowId: flowId })),
          );
          const flow = output?.ContactFlow;
          if (!flow) return { found: false };
          if (flow.Status !== undefined && flow.Status !== 'PUBLISHED') return { found: true, published: false };
          return { found: true, published: true, type: flow.Type ?? 'UNKNOWN', state: flow.State ?? 'UNKNOWN' };
        } catch (error) {
          if (errorName(error) === 'ContactFlowNotPublishedException') return { found: true, published: false };
          throw error;
        }
      },
      (flow) => flow.found,
    );
  }

  describeQueue(queueId: string): Promise<QueueFacts> {
    return this.queues.get(
      queueId,
      async () => {
        const output = await this.read('DescribeQueue', () =>
          this.client.send(new DescribeQueueCommand({ InstanceId: this.instance.id, QueueId: queueId })),
        );
        return { found: output?.Queue !== undefined, enabled: output?.Queue?.Status === 'ENABLED' };
      },
      (queue) => queue.found,
    );
  }

  describeUser(userId: string): Promise<UserFacts> {
    return this.users.get(
      userId,
      async () => {
        const output = await this.read('DescribeUser', () =>
          this.client.send(new DescribeUserCommand({ InstanceId: this.instance.id, UserId: userId })),
        );
        return { found: output?.User !== undefined };
      },
      (user) => user.found,
    );
  }

  async transferContact(request: TransferRequest, clientToken: string, precondition?: Precondition): Promise<TransferResult> {
    try {
      if (precondition) {
        // Last, after the pacing wait: what the contact shows here is at most one round trip old when Connect transfers it.
        const refusal = precondition(await this.describeContact(request.ContactId));
        if (refusal) throw refusal;
      }
    } catch (error) {
      throw new TransferNotSent(error instanceof TransferError ? error : TransferError.of('INTERNAL_ERROR', { cause: error }));
    }
    try {
      const output = await (this.options.transferClient ?? this.client).send(
        new TransferContactCommand({
          InstanceId: this.instance.id,
          ContactId: request.ContactId,
          ContactFlowId: request.ContactFlowId,
          QueueId: request.QueueId,
          UserId: request.UserId,
          ClientToken: clientToken,
        }),
      );
      const contactId = output.ContactId ?? request.ContactId;
      return { ContactId: contactId, ContactArn: output.ContactArn ?? contactArn(this.instance, contactId) };
    } catch (error) {
      throw this.translate('TransferContact', error);
    }
  }

  /** A Describe call whose 404 is an answer ("not found"), not a failure. */
  private async read<T>(operation: ConnectOperation, call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException') return undefined;
      if (errorName(error) === 'ContactFlowNotPublishedException') throw error;
      throw this.translate(operation, error);
    }
  }

  private translate(operation: ConnectOperation, error: unknown): TransferError {
    const failure = classifyConnectError(error);
    if (failure.reason === 'THROTTLED') this.onThrottle(operation);
    return failure;
  }
}

/** Contract section 5 for what Connect (or the way to it) answered. */
export function classifyConnectError(error: unknown): TransferError {
  const status = httpStatusOf(error);
  const name = errorName(error);
  if (status === 429 || name === 'ThrottlingException' || name === 'TooManyRequestsException') {
    return TransferError.of('THROTTLED', { cause: error });
  }
  // No status means Connect never answered: refused connection, DNS, timeout.
  if (status === undefined || status >= 500) return TransferError.of('UPSTREAM_FAILURE', { cause: error });
  const message = error instanceof Error ? withoutArns(error.message) : '';
  return TransferError.connectRejected(status, name ?? 'InvalidRequestException', message, error);
}

function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('$metadata' in error)) return undefined;
  const metadata = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
  return metadata?.httpStatusCode;
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/** Connect's messages can quote our role's ARN (AccessDenied); callers need the sentence, not our internals. */
function withoutArns(message: string): string {
  return message.replace(/arn:[^\s"']+/g, '<arn>');
}
