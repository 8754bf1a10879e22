import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ConfigurationError, DEFAULTS, PACE_BOUNDS, parseChannels, parseEventSources } from '../lambda/config';
import { parseInstanceArn } from '../lambda/domain/arn';
import type { ConnectInstance } from '../lambda/domain/arn';
import { DEFAULT_EVENT_SOURCES } from '../lambda/doors/eventbridge';
import { TRANSFER_EVENTS_SOURCE_DEFAULT } from './transfer-events';

/**
 * CDK context keys of the gateway (contract section 1 plus the knobs the README lists). Values arrive typed from
 * cdk.json and as strings from `-c key=value`, so every reader below accepts both.
 */
export const CONTEXT_KEYS = {
  connectInstanceArn: 'connectInstanceArn',
  allowedChannels: 'allowedChannels',
  maxTransfers: 'maxTransfers',
  eventSources: 'eventSources',
  allowedAccounts: 'allowedAccounts',
  allowedOrganizationId: 'allowedOrganizationId',
  throttlingRateLimit: 'throttlingRateLimit',
  throttlingBurstLimit: 'throttlingBurstLimit',
  logLevel: 'logLevel',
  logRetentionDays: 'logRetentionDays',
  metadataCacheTtlSeconds: 'metadataCacheTtlSeconds',
  idempotencyTtlSeconds: 'idempotencyTtlSeconds',
  ledgerRetentionDays: 'ledgerRetentionDays',
  alarmTopicArn: 'alarmTopicArn',
  alarmEmail: 'alarmEmail',
  bufferAgeAlarmSeconds: 'bufferAgeAlarmSeconds',
  tracing: 'tracing',
  vpcEndpointIds: 'vpcEndpointIds',
  transferRatePerSecond: 'transferRatePerSecond',
  transferBurst: 'transferBurst',
  transferEventSource: 'transferEventSource',
} as const;

/** Powertools log levels (POWERTOOLS_LOG_LEVEL). */
export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const CONTEXT_DEFAULTS = {
  eventSources: DEFAULT_EVENT_SOURCES,
  /**
   * Connect's TransferContact quota is 2 requests/s with a burst of 5 per account and Region, shared by every
   * caller (docs/connect-api.md, "Quotas"). The stage admits no more than that: a request above it would only be
   * throttled by Connect after the SDK's retries (up to ~2 s of Lambda time and 3x the calls), so it is cheaper
   * and clearer to answer 429 THROTTLED at the edge before anything runs.
   */
  throttlingRateLimit: 2,
  throttlingBurstLimit: 5,
  logLevel: 'INFO' as LogLevel,
  /** Operational logs only: the durable audit trail is the ledger table. */
  logRetentionDays: RetentionDays.ONE_MONTH as number,
  /** Fifteen minutes of backlog: at the default drain rate of 2 per second, a burst of about 1,800 requests. */
  bufferAgeAlarmSeconds: 900,
} as const;

/** The validated configuration of one gateway, bound to one Amazon Connect instance. */
export interface GatewaySettings {
  readonly connectInstance: ConnectInstance;
  /** Channels that may be transferred (Connect's names: TASK, EMAIL, ...). */
  readonly allowedChannels: readonly string[];
  /** Transfers allowed per contact tree. */
  readonly maxTransfers: number;
  /** EventBridge `source` values the transfer rule accepts. */
  readonly eventSources: readonly string[];
  /** Accounts besides the deploying one whose principals may call the API (they still need an identity policy). */
  readonly allowedAccounts: readonly string[];
  /** An AWS Organizations id whose principals may call the API. */
  readonly allowedOrganizationId?: string;
  /** API Gateway stage steady-state requests per second. */
  readonly throttlingRateLimit: number;
  /** API Gateway stage burst. */
  readonly throttlingBurstLimit: number;
  readonly logLevel: LogLevel;
  /** Retention of the function's and the API's log groups; one of CloudWatch Logs' allowed values. */
  readonly logRetentionDays: number;
  /** How long flow, queue and user descriptions are cached per Lambda container (0 turns the cache off). */
  readonly metadataCacheTtlSeconds: number;
  /** How long a successful transfer is replayed for its idempotency key (at least an hour). */
  readonly idempotencyTtlSeconds: number;
  /** How long ledger records live (at least 30 days). */
  readonly ledgerRetentionDays: number;
  /** An existing SNS topic for the alarms; otherwise the gateway creates one. */
  readonly alarmTopicArn?: string;
  /** An address subscribed to the alarm topic. */
  readonly alarmEmail?: string;
  /** Age of the oldest buffered request at which the buffer alarm fires. */
  readonly bufferAgeAlarmSeconds: number;
  /** Active X-Ray tracing of the function and the API stage. */
  readonly tracing: boolean;
  /** Interface VPC endpoints (`vpce-...`) that alone may reach the API, which then is private. */
  readonly vpcEndpointIds: readonly string[];
  /** TransferContact calls per second across both doors and every container (the shared pacer). */
  readonly transferRatePerSecond: number;
  /** Calls the pacer lets go at once after a quiet spell. */
  readonly transferBurst: number;
  /** The `source` of the `Contact Transferred` and `Contact Transfer Failed` events. */
  readonly transferEventSource: string;
}

/** Where raw context values come from: `app.node.tryGetContext`, or a plain object when embedding the construct. */
export type ContextSource = ((key: string) => unknown) | Readonly<Record<string, unknown>>;

const INSTANCE_ARN_EXAMPLE = 'arn:aws:connect:<region>:<account>:instance/<id>';

/** A context value is missing or malformed. The message is one line that says how to pass it. */
export class ContextError extends Error {
  constructor(
    readonly key: string,
    problem: string,
    example = '<value>',
  ) {
    super(`${problem}: pass -c ${key}=${example} to cdk, or set "${key}" under "context" in cdk.json.`);
    this.name = 'ContextError';
  }
}

/** Reads and validates every gateway context key; throws ContextError on the first bad one. */
export function parseGatewayContext(source: ContextSource): GatewaySettings {
  const read = typeof source === 'function' ? source : (key: string): unknown => source[key];
  const raw = (key: string): unknown => {
    const value = read(key);
    return typeof value === 'string' && value.trim() === '' ? undefined : value;
  };

  const allowedOrganizationId = optionalOrganization(raw(CONTEXT_KEYS.allowedOrganizationId));
  const connectInstance = instanceArn(raw(CONTEXT_KEYS.connectInstanceArn));
  const alarmTopic = optionalMatch(CONTEXT_KEYS.alarmTopicArn, raw(CONTEXT_KEYS.alarmTopicArn), SNS_TOPIC_ARN, 'an SNS topic ARN', 'arn:aws:sns:us-east-1:111122223333:ops-alarms');
  // Alarm actions can only notify a topic in the alarm's own Region, which is the instance's.
  if (alarmTopic.alarmTopicArn !== undefined && alarmTopic.alarmTopicArn.split(':')[3] !== connectInstance.region) {
    throw new ContextError(
      CONTEXT_KEYS.alarmTopicArn,
      `Invalid CDK context "${CONTEXT_KEYS.alarmTopicArn}" ${shown(alarmTopic.alarmTopicArn)}, expected a topic in ${connectInstance.region}, the Region the gateway deploys to`,
      `arn:aws:sns:${connectInstance.region}:${connectInstance.account}:ops-alarms`,
    );
  }
  return {
    connectInstance,
    allowedChannels: channels(raw(CONTEXT_KEYS.allowedChannels)),
    maxTransfers: integer(CONTEXT_KEYS.maxTransfers, raw(CONTEXT_KEYS.maxTransfers), DEFAULTS.maxTransfers, 1, 1000),
    eventSources: eventSources(raw(CONTEXT_KEYS.eventSources)),
    allowedAccounts: accounts(raw(CONTEXT_KEYS.allowedAccounts)),
    ...(allowedOrganizationId !== undefined && { allowedOrganizationId }),
    throttlingRateLimit: rate(raw(CONTEXT_KEYS.throttlingRateLimit)),
    throttlingBurstLimit: integer(CONTEXT_KEYS.throttlingBurstLimit, raw(CONTEXT_KEYS.throttlingBurstLimit), CONTEXT_DEFAULTS.throttlingBurstLimit, 1, 5000),
    logLevel: logLevel(raw(CONTEXT_KEYS.logLevel)),
    logRetentionDays: retention(raw(CONTEXT_KEYS.logRetentionDays)),
    // The same bounds the function's loadConfig enforces at cold start, so a bad value fails at synth instead.
    metadataCacheTtlSeconds: integer(
      CONTEXT_KEYS.metadataCacheTtlSeconds,
      raw(CONTEXT_KEYS.metadataCacheTtlSeconds),
      DEFAULTS.metadataCacheTtlSeconds,
      0,
      3600,
    ),
    idempotencyTtlSeconds: integer(
      CONTEXT_KEYS.idempotencyTtlSeconds,
      raw(CONTEXT_KEYS.idempotencyTtlSeconds),
      DEFAULTS.idempotencyTtlSeconds,
      3600,
      7 * 24 * 3600,
    ),
    ledgerRetentionDays: integer(CONTEXT_KEYS.ledgerRetentionDays, raw(CONTEXT_KEYS.ledgerRetentionDays), DEFAULTS.ledgerRetentionDays, 30, 3650),
    ...alarmTopic,
    ...optionalMatch(CONTEXT_KEYS.alarmEmail, raw(CONTEXT_KEYS.alarmEmail), EMAIL, 'an e-mail address', 'oncall@example.com'),
    // From one five-minute alarm period to the 14 days SQS can keep a message at most.
    bufferAgeAlarmSeconds: integer(
      CONTEXT_KEYS.bufferAgeAlarmSeconds,
      raw(CONTEXT_KEYS.bufferAgeAlarmSeconds),
      CONTEXT_DEFAULTS.bufferAgeAlarmSeconds,
      300,
      14 * 24 * 3600,
    ),
    tracing: flag(CONTEXT_KEYS.tracing, raw(CONTEXT_KEYS.tracing)),
    vpcEndpointIds: vpcEndpoints(raw(CONTEXT_KEYS.vpcEndpointIds)),
    transferRatePerSecond: bounded(CONTEXT_KEYS.transferRatePerSecond, raw(CONTEXT_KEYS.transferRatePerSecond), DEFAULTS.transferRatePerSecond, PACE_BOUNDS.transferRatePerSecond),
    transferBurst: integer(
      CONTEXT_KEYS.transferBurst,
      raw(CONTEXT_KEYS.transferBurst),
      DEFAULTS.transferBurst,
      PACE_BOUNDS.transferBurst.min,
      PACE_BOUNDS.transferBurst.max,
    ),
    transferEventSource: transferEventSource(raw(CONTEXT_KEYS.transferEventSource)),
  };
}

const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** An optional string that must match a pattern, spread into the settings only when given. */
function optionalMatch<K extends string>(key: K, value: unknown, pattern: RegExp, expectation: string, example: string): Partial<Record<K, string>> {
  if (value === undefined || value === null) return {};
  const text = typeof value === 'string' ? value.trim() : '';
  if (!pattern.test(text)) throw new ContextError(key, `Invalid CDK context "${key}" ${shown(value)}, expected ${expectation}`, example);
  return { [key]: text } as Partial<Record<K, string>>;
}

/** true or false, from cdk.json or as the strings `-c` passes. */
function flag(key: string, value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new ContextError(key, `Invalid CDK context "${key}" ${shown(value)}, expected true or false`, 'true');
}

function vpcEndpoints(value: unknown): readonly string[] {
  const key = CONTEXT_KEYS.vpcEndpointIds;
  const items = list(key, value);
  if (items === undefined) return [];
  const bad = items.find((id) => !/^vpce-[0-9a-f]{8,17}$/.test(id));
  if (bad !== undefined) throw new ContextError(key, `Invalid CDK context "${key}" value "${bad}", expected interface VPC endpoint ids such as vpce-0123456789abcdef0`, 'vpce-0123456789abcdef0');
  return items;
}

function instanceArn(value: unknown): ConnectInstance {
  const key = CONTEXT_KEYS.connectInstanceArn;
  if (value === undefined || value === null) {
    throw new ContextError(key, `Missing CDK context "${key}" (the Amazon Connect instance this gateway serves)`, INSTANCE_ARN_EXAMPLE);
  }
  const instance = typeof value === 'string' ? parseInstanceArn(value.trim()) : undefined;
  if (!instance) {
    throw new ContextError(key, `Invalid CDK context "${key}" ${shown(value)}, which is not an Amazon Connect instance ARN`, INSTANCE_ARN_EXAMPLE);
  }
  return instance;
}

/**
 * A list as a JSON array (cdk.json), or from `-c` as a JSON array string or comma-separated values.
 * Returns undefined when absent so the caller applies its default.
 */
function list(key: string, value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  let items: unknown = value;
  if (typeof value === 'string') {
    const text = value.trim();
    if (text.startsWith('[')) {
      try {
        items = JSON.parse(text) as unknown;
      } catch {
        throw new ContextError(key, `Invalid CDK context "${key}" ${shown(value)}, expected a JSON array of strings or comma-separated values`, 'A,B');
      }
    } else {
      items = text.split(',');
    }
  }
  if (!Array.isArray(items) || items.some((item) => typeof item !== 'string')) {
    throw new ContextError(key, `Invalid CDK context "${key}" ${shown(value)}, expected a list of strings`, 'A,B');
  }
  const strings = (items as string[]).map((item) => item.trim()).filter((item) => item !== '');
  if (strings.length === 0) throw new ContextError(key, `Invalid CDK context "${key}" ${shown(value)}, expected at least one value`, 'A,B');
  return [...new Set(strings)];
}

function channels(value: unknown): readonly string[] {
  const key = CONTEXT_KEYS.allowedChannels;
  const items = list(key, value);
  if (items === undefined) return DEFAULTS.allowedChannels;
  try {
    // The function's own parser, so the stack can never pass a value the function would refuse at cold start.
    return parseChannels(items.join(','));
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    throw new ContextError(key, `Invalid CDK context "${key}" ${shown(value)}, expected channels from VOICE, CHAT, TASK, EMAIL`, 'TASK,EMAIL');
  }
}

/** EventBridge source: 1..256 chars; `aws.` sources are reserved for AWS services and cannot be published. */
function eventSources(value: unknown): readonly string[] {
  const key = CONTEXT_KEYS.eventSources;
  const items = list(key, value);
  if (items === undefined) return CONTEXT_DEFAULTS.eventSources;
  try {
    // The function's own parser: the same bounds at synth as at cold start, where it checks each event's source.
    return parseEventSources(items.join(','));
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    const bad = items.find((source) => source.length > 256 || source.startsWith('aws.')) ?? value;
    throw new ContextError(key, `Invalid CDK context "${key}" value "${String(bad)}", expected custom sources of at most 256 characters not starting with "aws."`, 'my.app');
  }
}

/** A source the gateway publishes with: the same rules as a rule's sources, one value. */
function transferEventSource(value: unknown): string {
  const key = CONTEXT_KEYS.transferEventSource;
  if (value === undefined || value === null) return TRANSFER_EVENTS_SOURCE_DEFAULT;
  const source = typeof value === 'string' ? value.trim() : '';
  if (source === '' || source.length > 256 || source.startsWith('aws.')) {
    throw new ContextError(key, `Invalid CDK context "${key}" ${shown(value)}, expected a custom source of at most 256 characters not starting with "aws."`, 'my.app');
  }
  return source;
}

function accounts(value: unknown): readonly string[] {
  const key = CONTEXT_KEYS.allowedAccounts;
  const items = list(key, value);
  if (items === undefined) return [];
  const bad = items.find((account) => !/^\d{12}$/.test(account));
  if (bad !== undefined) throw new ContextError(key, `Invalid CDK context "${key}" value "${bad}", expected 12-digit AWS account ids`, '111122223333,444455556666');
  return items;
}

function optionalOrganization(value: unknown): string | undefined {
  const key = CONTEXT_KEYS.allowedOrganizationId;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !/^o-[a-z0-9]{10,32}$/.test(value.trim())) {
    throw new ContextError(key, `Invalid CDK context "${key}" ${shown(value)}, expected an AWS Organizations id such as o-a1b2c3d4e5`, 'o-a1b2c3d4e5');
  }
  return value.trim();
}

function number(key: string, value: unknown, expectation: string): number {
  const parsed = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : Number.NaN;
  if (!Number.isFinite(parsed)) throw new ContextError(key, `Invalid CDK context "${key}" ${shown(value)}, expected ${expectation}`);
  return parsed;
}

function integer(key: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined || value === null) return fallback;
  const expectation = `a whole number from ${min} to ${max}`;
  const parsed = number(key, value, expectation);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new ContextError(key, `Invalid CDK context "${key}" ${shown(value)}, expected ${expectation}`);
  }
  return parsed;
}

function bounded(key: string, value: unknown, fallback: number, { min, max }: { min: number; max: number }): number {
  if (value === undefined || value === null) return fallback;
  const expectation = `a number from ${min} to ${max}`;
  const parsed = number(key, value, expectation);
  if (parsed < min || parsed > max) throw new ContextError(key, `Invalid CDK context "${key}" ${shown(value)}, expected ${expectation}`);
  return parsed;
}

function rate(value: unknown): number {
  const key = CONTEXT_KEYS.throttlingRateLimit;
  if (value === undefined || value === null) return CONTEXT_DEFAULTS.throttlingRateLimit;
  const expectation = 'requests per second greater than 0 and at most 10000';
  const parsed = number(key, value, expectation);
  if (parsed <= 0 || parsed > 10_000) throw new ContextError(key, `Invalid CDK context "${key}" ${shown(value)}, expected ${expectation}`);
  return parsed;
}

function logLevel(value: unknown): LogLevel {
  const key = CONTEXT_KEYS.logLevel;
  if (value === undefined || value === null) return CONTEXT_DEFAULTS.logLevel;
  const level = typeof value === 'string' ? value.trim().toUpperCase() : '';
  const known = LOG_LEVELS.find((candidate) => candidate === level);
  if (!known) throw new ContextError(key, `Invalid CDK context "${key}" ${shown(value)}, expected one of ${LOG_LEVELS.join(', ')}`, 'INFO');
  return known;
}

/** CloudWatch Logs accepts only its fixed list of retention periods. */
function retention(value: unknown): number {
  const key = CONTEXT_KEYS.logRetentionDays;
  if (value === undefined || value === null) return CONTEXT_DEFAULTS.logRetentionDays;
  const allowed = Object.values(RetentionDays).filter((days): days is number => typeof days === 'number');
  const days = number(key, value, `one of ${allowed.join(', ')}`);
  if (!allowed.includes(days)) throw new ContextError(key, `Invalid CDK context "${key}" ${shown(value)}, expected one of ${allowed.join(', ')}`, '30');
  return days;
}

/** The offending value, quoted and cut short so the error stays one readable line. */
function shown(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  const oneLine = text.replace(/\s+/g, ' ');
  return `("${oneLine.length > 120 ? `${oneLine.slice(0, 117)}...` : oneLine}")`;
}
