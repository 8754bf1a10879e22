import { parseInstanceArn } from './domain/arn';
import type { ConnectInstance } from './domain/arn';
import { DEFAULT_EVENT_SOURCES } from './doors/eventbridge';

/** Environment variables the function reads; the stack sets them from CDK context (contract section 1). */
export const ENV = {
  instanceArn: 'CONNECT_INSTANCE_ARN',
  allowedChannels: 'ALLOWED_CHANNELS',
  maxTransfers: 'MAX_TRANSFERS',
  idempotencyTable: 'IDEMPOTENCY_TABLE_NAME',
  ledgerTable: 'LEDGER_TABLE_NAME',
  metadataCacheTtlSeconds: 'METADATA_CACHE_TTL_SECONDS',
  idempotencyTtlSeconds: 'IDEMPOTENCY_TTL_SECONDS',
  ledgerRetentionDays: 'LEDGER_RETENTION_DAYS',
  stackAccount: 'STACK_ACCOUNT_ID',
  apiId: 'TRANSFER_API_ID',
  apiStage: 'TRANSFER_API_STAGE',
  eventSources: 'EVENT_SOURCES',
  transferRatePerSecond: 'TRANSFER_RATE_PER_SECOND',
  transferBurst: 'TRANSFER_BURST',
  eventBufferQueueArn: 'EVENT_BUFFER_QUEUE_ARN',
  eventMaxReceives: 'EVENT_MAX_RECEIVES',
  deadLetterQueueArn: 'EVENT_DEAD_LETTER_QUEUE_ARN',
  sweepRuleArn: 'SWEEP_RULE_ARN',
  sweepAfterSeconds: 'SWEEP_AFTER_SECONDS',
} as const;

/** Powertools names; the stack also sets them as POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE. */
export const SERVICE_NAME = 'contact-transfer-gateway';
export const METRICS_NAMESPACE = 'ContactTransferGateway';

export const CHANNELS = ['VOICE', 'CHAT', 'TASK', 'EMAIL'] as const;

export const DEFAULTS = {
  allowedChannels: ['TASK', 'EMAIL'],
  maxTransfers: 11,
  metadataCacheTtlSeconds: 60,
  /** The contract keeps successes for at least an hour. */
  idempotencyTtlSeconds: 3600,
  /** A task lives at most 7 days; the contract keeps the ledger at least 30. */
  ledgerRetentionDays: 30,
  /**
   * Connect's TransferContact quota is 2/s with a burst of 5 per account and Region (docs/connect-api.md, "Quotas"). The
   * gateway uses the whole rate but only 2 of the burst, so the 3 tokens it leaves absorb timing jitter between its
   * clock and Connect's and a few calls from other callers.
   */
  transferRatePerSecond: 2,
  transferBurst: 2,
} as const;

/** Bounds of the pacing settings, shared by the function's check and the CDK context's. */
export const PACE_BOUNDS = {
  /** Connect's quota can be raised by request; beyond 1000/s one shared DynamoDB item would be the bottleneck. */
  transferRatePerSecond: { min: 0.1, max: 1000 },
  transferBurst: { min: 1, max: 100 },
} as const;

export interface GatewayConfig {
  readonly instance: ConnectInstance;
  readonly allowedChannels: readonly string[];
  readonly maxTransfers: number;
  readonly idempotencyTable: string;
  readonly ledgerTable: string;
  readonly metadataCacheTtlMs: number;
  readonly idempotencyTtlSeconds: number;
  readonly ledgerRetentionDays: number;
  readonly doors: DoorTrust;
  readonly pace: { readonly ratePerSecond: number; readonly burst: number };
  /** The event door: the buffer queue the stack owns, and how often SQS delivers a message before dead-lettering it. */
  readonly eventBuffer?: { readonly queueArn: string; readonly maxReceives: number };
  /** The dead-letter queue whose records the function turns into failure records (lambda/doors/dead-letters.ts). */
  readonly deadLetterQueueArn?: string;
  /** The schedule rule whose events sweep PENDING intents older than `afterMs` (lambda/doors/sweep.ts). */
  readonly sweep?: { readonly ruleArn: string; readonly afterMs: number };
}

/**
 * What only the deployed stack's own doors put into an event (contract section 7: who asked cannot be forged through
 * the payload). An event shaped like a door's but without these is a direct invocation. Anyone allowed
 * lambda:InvokeFunction can still copy them, which is why that permission is an administrator's.
 */
export interface DoorTrust {
  /** The stack's account: API Gateway's `requestContext.accountId`, EventBridge's `account`. */
  readonly account: string;
  /** The REST API and stage in front of the function; absent, no event is taken for an API Gateway one. */
  readonly api?: { readonly id: string; readonly stage: string };
  /** EventBridge `source` values the stack's rule accepts. */
  readonly eventSources: readonly string[];
}

export class ConfigurationError extends Error {
  constructor(variable: string, expectation: string) {
    super(`Configuration error: environment variable ${variable} ${expectation}`);
    this.name = 'ConfigurationError';
  }
}

/** Reads and checks every variable once; a bad one fails the cold start with one line naming it. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const required = (name: string): string => {
    const value = env[name]?.trim();
    if (!value) throw new ConfigurationError(name, 'is required');
    return value;
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name]?.trim();
    if (!raw) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new ConfigurationError(name, `must be a whole number from ${min} to ${max}, got "${raw}"`);
    }
    return value;
  };

  const decimal = (name: string, fallback: number, { min, max }: { min: number; max: number }): number => {
    const raw = env[name]?.trim();
    if (!raw) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) {
      throw new ConfigurationError(name, `must be a number from ${min} to ${max}, got "${raw}"`);
    }
    return value;
  };

  const instanceArn = required(ENV.instanceArn);
  const instance = parseInstanceArn(instanceArn);
  if (!instance) {
    throw new ConfigurationError(ENV.instanceArn, `must be arn:<partition>:connect:<region>:<account>:instance/<instanceId>, got "${instanceArn}"`);
  }
  return {
    instance,
    allowedChannels: parseChannels(env[ENV.allowedChannels]),
    maxTransfers: integer(ENV.maxTransfers, DEFAULTS.maxTransfers, 1, 1000),
    idempotencyTable: required(ENV.idempotencyTable),
    ledgerTable: required(ENV.ledgerTable),
    metadataCacheTtlMs: integer(ENV.metadataCacheTtlSeconds, DEFAULTS.metadataCacheTtlSeconds, 0, 3600) * 1000,
    idempotencyTtlSeconds: integer(ENV.idempotencyTtlSeconds, DEFAULTS.idempotencyTtlSeconds, 3600, 7 * 24 * 3600),
    ledgerRetentionDays: integer(ENV.ledgerRetentionDays, DEFAULTS.ledgerRetentionDays, 30, 3650),
    doors: doorTrust(env, instance),
    pace: {
      ratePerSecond: decimal(ENV.transferRatePerSecond, DEFAULTS.transferRatePerSecond, PACE_BOUNDS.transferRatePerSecond),
      burst: integer(ENV.transferBurst, DEFAULTS.transferBurst, PACE_BOUNDS.transferBurst.min, PACE_BOUNDS.transferBurst.max),
    },
    ...eventBufferOf(env, integer),
    ...backstopsOf(env, integer),
  };
}

/** As AWS writes them: a REST API id, an API Gateway stage name, an account id. */
const API_ID = /^[a-z0-9]{1,32}$/;
const STAGE_NAME = /^[A-Za-z0-9_-]{1,128}$/;
const ACCOUNT = /^\d{12}$/;

function doorTrust(env: NodeJS.ProcessEnv, instance: ConnectInstance): DoorTrust {
  const value = (name: string): string | undefined => env[name]?.trim() || undefined;
  // The stack deploys to the instance's account (the function's role can only call Connect there).
  const account = value(ENV.stackAccount) ?? instance.account;
  if (!ACCOUNT.test(account)) throw new ConfigurationError(ENV.stackAccount, `must be a 12-digit AWS account id, got "${account}"`);
  const apiId = value(ENV.apiId);
  if (apiId !== undefined && !API_ID.test(apiId)) throw new ConfigurationError(ENV.apiId, `must be a REST API id (lower-case letters and digits), got "${apiId}"`);
  const stage = value(ENV.apiStage) ?? 'prod';
  if (!STAGE_NAME.test(stage)) throw new ConfigurationError(ENV.apiStage, `must be an API Gateway stage name, got "${stage}"`);
  return {
    account,
    ...(apiId !== undefined && { api: { id: apiId, stage } }),
    eventSources: parseEventSources(env[ENV.eventSources]),
  };
}

/** Comma-separated EventBridge sources; `aws.` sources are AWS services' own and cannot be published. */
export function parseEventSources(raw: string | undefined): readonly string[] {
  if (raw === undefined || raw.trim() === '') return DEFAULT_EVENT_SOURCES;
  const sources = raw.split(',').map((source) => source.trim());
  if (sources.some((source) => source === '' || source.length > 256 || source.startsWith('aws.'))) {
    throw new ConfigurationError(ENV.eventSources, `must list custom EventBridge sources (at most 256 characters, not aws.*) separated by commas, got "${raw}"`);
  }
  return [...new Set(sources)];
}


/** Without a buffer queue the function has no event door: an SQS-shaped payload is then a direct invocation. */
function eventBufferOf(
  env: NodeJS.ProcessEnv,
  integer: (name: string, fallback: number, min: number, max: number) => number,
): Pick<GatewayConfig, 'eventBuffer'> {
  const queueArn = env[ENV.eventBufferQueueArn]?.trim();
  if (!queueArn) return {};
  if (!/^arn:[\w-]+:sqs:[\w-]+:\d{12}:[\w-]+$/.test(queueArn)) {
    throw new ConfigurationError(ENV.eventBufferQueueArn, `must be an SQS queue ARN, got "${queueArn}"`);
  }
  if (!env[ENV.eventMaxReceives]?.trim()) throw new ConfigurationError(ENV.eventMaxReceives, `is required with ${ENV.eventBufferQueueArn}`);
  // SQS allows 1 to 1000 receives before a message is dead-lettered.
  return { eventBuffer: { queueArn, maxReceives: integer(ENV.eventMaxReceives, 1, 1, 1000) } };
}

/** The dead-letter door and the sweeper, each present only when the stack names its queue or rule. */
function backstopsOf(env: NodeJS.ProcessEnv, integer: (name: string, fallback: number, min: number, max: number) => number): Pick<GatewayConfig, 'deadLetterQueueArn' | 'sweep'> {
  const queueArn = env[ENV.deadLetterQueueArn]?.trim();
  if (queueArn && !/^arn:[\w-]+:sqs:[\w-]+:\d{12}:[\w-]+$/.test(queueArn)) throw new ConfigurationError(ENV.deadLetterQueueArn, `must be an SQS queue ARN, got "${queueArn}"`);
  const ruleArn = env[ENV.sweepRuleArn]?.trim();
  if (ruleArn && !/^arn:[\w-]+:events:[\w-]+:\d{12}:rule\/[\w.-]+$/.test(ruleArn)) throw new ConfigurationError(ENV.sweepRuleArn, `must be an EventBridge rule ARN, got "${ruleArn}"`);
  // The stack sets the function's timeout plus a margin. Any value is safe, since a sweep settles an intent under the
  // idempotency lock that a running invocation holds; younger intents would only cost a sweep lock attempts.
  const afterMs = integer(ENV.sweepAfterSeconds, 960, 0, 24 * 3600) * 1000;
  return { ...(queueArn && { deadLetterQueueArn: queueArn }), ...(ruleArn && { sweep: { ruleArn, afterMs } }) };
}

/** Comma-separated channel names, e.g. "TASK,EMAIL". */
export function parseChannels(raw: string | undefined): readonly string[] {
  if (raw === undefined || raw.trim() === '') return DEFAULTS.allowedChannels;
  const channels = raw.split(',').map((channel) => channel.trim().toUpperCase());
  const unknown = channels.filter((channel) => !(CHANNELS as readonly string[]).includes(channel));
  if (unknown.length > 0 || channels.length === 0) {
    throw new ConfigurationError(ENV.allowedChannels, `must list channels from ${CHANNELS.join(', ')} separated by commas, got "${raw}"`);
  }
  return [...new Set(channels)];
}
