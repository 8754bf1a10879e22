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
