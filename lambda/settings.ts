import { parseInstanceArn } from './domain/arn';
import type { ConnectInstance } from './domain/arn';

/**
 * Every knob of the gateway, described once: its CDK context key (also the construct's prop), the environment variable
 * the function reads it from, its default, what it accepts and what it means. CDK context parsing (lib/context.ts), the
 * construct's props and the environment it hands the function (lib/), the function's cold-start check (config.ts) and
 * docs/configuration.md's tables all read this table; nothing else writes a bound or a default.
 *
 * Plain data, so the function's bundle takes it without the CDK. Each setting is its own constant built by functions
 * marked free of side effects, so the bundle keeps only the settings the function reads; write bounds as literals
 * (esbuild keeps a row whose arguments hold a product such as `14 * 24 * 3600`).
 */

/**
 * What a setting accepts and how it reads from text. Plain functions rather than zod/mini schemas: the same table with
 * zod/mini checks made the function's bundle about 4 KB larger (checks, pipes and transforms the request schema does
 * not use), for six parsers of a few lines each.
 */
export interface Kind<T> {
  /** Takes a typed value (cdk.json, construct props) or its text (`-c`, environment variables); undefined when not acceptable. */
  parse(value: unknown): T | undefined;
  /** What is accepted, in words: error messages and docs/configuration.md say exactly this. */
  readonly expectation: string;
  /** A valid value, for the one-line hint of an error. */
  readonly example: string;
  /** The construct prop's TypeScript type. */
  readonly propType: string;
}

export interface Setting<T> {
  /** The CDK context key and construct prop; absent for what the construct sets from its own resources. */
  readonly context?: string;
  /** The environment variable the function reads; absent for knobs of the stack alone. */
  readonly env?: string;
  readonly kind: Kind<T>;
  readonly default?: T;
  /** What leaving it out means, when the default alone does not say it ("required", or what happens instead). */
  readonly absent?: string;
  /** Who sets a variable that has no context key, when it is not the construct. */
  readonly setBy?: string;
  readonly meaning: string;
}

/* @__NO_SIDE_EFFECTS__ */
function setting<T>(definition: Setting<T>): Setting<T> {
  return definition;
}

/** A value as the function's environment holds it: lists comma-separated. */
export function encode(value: unknown): string {
  return Array.isArray(value) ? value.join(',') : String(value);
}

/** A value as cdk.json holds it. */
export function show(value: unknown): string {
  return typeof value === 'string' || Array.isArray(value) ? JSON.stringify(value) : String(value);
}

const numberOf = (value: unknown): unknown => (typeof value !== 'string' ? value : value.trim() === '' ? Number.NaN : Number(value));

/** A number within bounds: whole unless `fractional`; `aboveMin` excludes the minimum itself. */
/* @__NO_SIDE_EFFECTS__ */
export function numberIn(min: number, max: number, { fractional = false, aboveMin = false } = {}): Kind<number> {
  return {
    parse: (value) => {
      const number = numberOf(value);
      return typeof number === 'number' && (fractional ? Number.isFinite(number) : Number.isInteger(number)) && (aboveMin ? number > min : number >= min) && number <= max
        ? number
        : undefined;
    },
    expectation: `a ${fractional ? '' : 'whole '}number ${aboveMin ? `greater than ${min} and at most` : `from ${min} to`} ${max}`,
    example: '<value>',
    propType: 'number',
  };
}

/* @__NO_SIDE_EFFECTS__ */
export function oneOf<const V extends string | number>(values: readonly V[], { ignoreCase = false, propType }: { ignoreCase?: boolean; propType?: string } = {}): Kind<V> {
  return {
    parse: (value) => {
      const candidate = typeof values[0] === 'number' ? numberOf(value) : typeof value === 'string' ? (ignoreCase ? value.trim().toUpperCase() : value.trim()) : value;
      return values.find((known) => known === candidate);
    },
    expectation: `one of ${values.join(', ')}`,
    example: String(values[0]),
    propType: propType ?? values.map((value) => (typeof value === 'string' ? `'${value}'` : String(value))).join(' | '),
  };
}

/* @__NO_SIDE_EFFECTS__ */
export function text(pattern: RegExp, expectation: string, example: string): Kind<string> {
  return {
    parse: (value) => (typeof value === 'string' && pattern.test(value.trim()) ? value.trim() : undefined),
    expectation,
    example,
    propType: 'string',
  };
}

/* @__NO_SIDE_EFFECTS__ */
export function flag(): Kind<boolean> {
  return {
    parse: (value) => (value === true || value === 'true' ? true : value === false || value === 'false' ? false : undefined),
    expectation: 'true or false',
    example: 'true',
    propType: 'boolean',
  };
}

/**
 * A list: a JSON array (cdk.json, construct props), or text that is a JSON array or comma-separated values (`-c`, the
 * environment). Items are trimmed, duplicates dropped; an empty item is refused, and an empty list unless it means "none".
 */
/* @__NO_SIDE_EFFECTS__ */
export function list(item: Kind<string>, { upperCase = false, allowEmpty = false } = {}): Kind<readonly string[]> {
  const itemsOf = (value: unknown): unknown => {
    if (typeof value !== 'string') return value;
    const listed = value.trim();
    if (!listed.startsWith('[')) return listed.split(',');
    try {
      return JSON.parse(listed) as unknown;
    } catch {
      return undefined;
    }
  };
  return {
    parse: (value) => {
      const items = itemsOf(value);
      if (!Array.isArray(items) || (items.length === 0 && !allowEmpty)) return undefined;
      const parsed = items.map((entry) => (typeof entry === 'string' ? item.parse(upperCase ? entry.toUpperCase() : entry) : undefined));
      return parsed.every((entry) => entry !== undefined) ? [...new Set(parsed)] : undefined;
    },
    expectation: `a list, each ${item.expectation}`,
    example: item.example,
    propType: 'string[]',
  };
}

/**
 * The channels Amazon Connect's TransferContact accepts (TASK only before 2025, TASK and EMAIL since): a VOICE or CHAT
 * contact could never be transferred, so a configuration that allows one is refused rather than promised.
 */
export const TRANSFERABLE_CHANNELS = ['TASK', 'EMAIL'] as const;
/** Powertools log levels (POWERTOOLS_LOG_LEVEL). */
export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/**
 * CloudWatch Logs' retention periods in days (PutRetentionPolicy), and 9999 for "never expire" as aws-cdk-lib's
 * RetentionDays.INFINITE writes it; a stack test checks this list against RetentionDays.
 */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653, 9999] as const;

/** An EventBridge source anyone may publish with: 1 to 256 characters; `aws.` is reserved for AWS services. */
const customSource = text(/^(?!aws\.).{1,256}$/, 'a custom EventBridge source of at most 256 characters, not starting with "aws."', 'my.app');
const account = text(/^\d{12}$/, 'a 12-digit AWS account id', '111122223333');
const channel: Kind<string> = {
  ...oneOf(TRANSFERABLE_CHANNELS),
  expectation: `one of ${TRANSFERABLE_CHANNELS.join(', ')} (the channels Amazon Connect's TransferContact accepts)`,
};
/** An SQS queue's ARN, in any partition. */
/* @__NO_SIDE_EFFECTS__ */
function sqsQueueArn(example: string): Kind<string> {
  return text(/^arn:[\w-]+:sqs:[\w-]+:\d{12}:[\w-]+$/, 'an SQS queue ARN', `arn:aws:sqs:us-east-1:111122223333:${example}`);
}
/** Names the construct passes (tables, Powertools' service and namespace): whatever CloudFormation resolves them to. */
const name = text(/^.+$/, 'a name', 'name');

/** The one Amazon Connect instance, from its ARN. */
export const instanceArnKind: Kind<string> = {
  parse: (value) => (typeof value === 'string' && parseInstanceArn(value.trim()) !== undefined ? value.trim() : undefined),
  expectation: 'an Amazon Connect instance ARN, arn:<partition>:connect:<region>:<account>:instance/<instanceId>',
  example: 'arn:aws:connect:<region>:<account>:instance/<id>',
  propType: 'string',
};

/** The instance of an ARN this table's parser accepted. */
export function instanceOf(arn: string): ConnectInstance {
  const instance = parseInstanceArn(arn);
  if (!instance) throw new Error(`Not an Amazon Connect instance ARN: ${arn}`);
  return instance;
}

// ---------------------------------------------------------------------------------------------------------------------
// The settings. Context keys are also the construct's props.

export const connectInstanceArn = setting({
  context: 'connectInstanceArn',
  env: 'CONNECT_INSTANCE_ARN',
  kind: instanceArnKind,
  absent: 'required',
  meaning: 'the one Amazon Connect instance this gateway serves (the stack deploys to its account and Region)',
});

export const allowedChannels = setting({
  context: 'allowedChannels',
  env: 'ALLOWED_CHANNELS',
  kind: list(channel, { upperCase: true }),
  default: ['TASK', 'EMAIL'],
  meaning: 'channels that may be transferred',
});

export const maxTransfers = setting({
  context: 'maxTransfers',
  env: 'MAX_TRANSFERS',
  kind: numberIn(1, 1000),
  default: 11,
  meaning: 'transfers allowed per contact tree',
});

export const eventSources = setting({
  context: 'eventSources',
  env: 'EVENT_SOURCES',
  kind: list(customSource),
  default: ['internal.contact-transfer'],
  meaning: 'EventBridge `source` values the transfer rule and the event door accept',
});

export const allowedAccounts = setting({
  context: 'allowedAccounts',
  kind: list(account, { allowEmpty: true }),
  default: [],
  absent: 'none',
  meaning: 'more accounts whose principals may call the API (they still need an identity policy)',
});

export const allowedOrganizationId = setting({
  context: 'allowedOrganizationId',
  kind: text(/^o-[a-z0-9]{10,32}$/, 'an AWS Organizations id such as o-a1b2c3d4e5', 'o-a1b2c3d4e5'),
  absent: 'none',
  meaning: 'an AWS Organizations id whose principals may call the API',
});

export const throttlingRateLimit = setting({
  context: 'throttlingRateLimit',
  kind: numberIn(0, 10_000, { fractional: true, aboveMin: true }),
  // Connect's TransferContact quota (docs/connect-api.md, "Quotas"): a request above it would only wait for pacing
  // slots or be throttled by Connect, so the stage answers 429 THROTTLED before anything runs.
  default: 2,
  meaning: 'API stage steady rate, requests per second: Connect\'s TransferContact quota (docs/configuration.md, "Why 2 requests/s, burst 5")',
});

export const throttlingBurstLimit = setting({
  context: 'throttlingBurstLimit',
  kind: numberIn(1, 5000),
  default: 5,
  meaning: 'API stage burst (Connect\'s TransferContact burst)',
});

export const logLevel = setting({
  context: 'logLevel',
  env: 'POWERTOOLS_LOG_LEVEL',
  kind: oneOf(LOG_LEVELS, { ignoreCase: true }),
  default: 'INFO',
  meaning: 'Powertools log level of the function',
});

export const logRetentionDays = setting({
  context: 'logRetentionDays',
  kind: oneOf(LOG_RETENTION_DAYS, { propType: 'RetentionDays' }),
  // Operational logs only: the durable audit trail is the ledger table.
  default: 30,
  meaning: 'retention of the function\'s and the API\'s log groups, in days (CloudWatch Logs\' values; 9999 keeps them forever)',
});

export const metadataCacheTtlSeconds = setting({
  context: 'metadataCacheTtlSeconds',
  env: 'METADATA_CACHE_TTL_SECONDS',
  kind: numberIn(0, 3600),
  default: 60,
  meaning: 'how long flow, queue and user descriptions are cached per Lambda container; 0 turns the cache off',
});

export const idempotencyTtlSeconds = setting({
  context: 'idempotencyTtlSeconds',
  env: 'IDEMPOTENCY_TTL_SECONDS',
  // The contract keeps successes for at least an hour; at most a week (604,800 s).
  kind: numberIn(3600, 604_800),
  default: 3600,
  meaning: 'how long a successful transfer is replayed for its idempotency key',
});

export const ledgerRetentionDays = setting({
  context: 'ledgerRetentionDays',
  env: 'LEDGER_RETENTION_DAYS',
  // A task lives at most 7 days; the contract keeps the ledger at least 30.
  kind: numberIn(30, 3650),
  default: 30,
  meaning: 'how long ledger records live (a task lives at most 7 days)',
});

export const alarmTopicArn = setting({
  context: 'alarmTopicArn',
  kind: text(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, 'an SNS topic ARN in the Region the gateway deploys to', 'arn:aws:sns:us-east-1:111122223333:ops-alarms'),
  absent: 'none: the gateway creates a topic',
  meaning: 'an existing SNS topic the alarms notify instead',
});

export const alarmEmail = setting({
  context: 'alarmEmail',
  kind: text(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'an e-mail address', 'oncall@example.com'),
  absent: 'none',
  meaning: 'an address subscribed to the alarm topic (it must confirm the subscription)',
});

export const bufferAgeAlarmSeconds = setting({
  context: 'bufferAgeAlarmSeconds',
  // From one five-minute alarm period to the 14 days (1,209,600 s) SQS can keep a message at most.
  kind: numberIn(300, 1_209_600),
  // Fifteen minutes of backlog: at the default drain rate of 2 per second, a burst of about 1,800 requests.
  default: 900,
  meaning: 'the buffer alarm fires when the oldest buffered request is this many seconds old',
});

export const tracing = setting({
  context: 'tracing',
  kind: flag(),
  default: false,
  meaning: 'active X-Ray tracing of the function and the API stage',
});

export const vpcEndpointIds = setting({
  context: 'vpcEndpointIds',
  kind: list(text(/^vpce-[0-9a-f]{8,17}$/, 'an interface VPC endpoint id (vpce-...)', 'vpce-0123456789abcdef0'), { allowEmpty: true }),
  default: [],
  absent: 'none: a regional API',
  meaning: 'interface VPC endpoints that alone may reach the API, which then is private',
});

export const transferRatePerSecond = setting({
  context: 'transferRatePerSecond',
  env: 'TRANSFER_RATE_PER_SECOND',
  // Connect's quota can be raised by request; beyond 1000/s one shared DynamoDB item would be the bottleneck.
  kind: numberIn(0.1, 1000, { fractional: true }),
  // Connect's TransferContact quota is 2/s with a burst of 5 per account and Region (docs/connect-api.md, "Quotas").
  default: 2,
  meaning: 'the most TransferContact calls per second, every door, both functions and every container together (the shared pacer, which lowers its rate by itself while another caller shares the quota); raise only with Connect\'s quota',
});

export const transferBurst = setting({
  context: 'transferBurst',
  env: 'TRANSFER_BURST',
  kind: numberIn(1, 100),
  // Only 2 of Connect's burst of 5: the 3 left absorb timing jitter between the gateway's clock and Connect's and a
  // few calls from other callers.
  default: 2,
  meaning: 'calls the pacer lets go at once after a quiet spell; keep it below Connect\'s burst (5 by default)',
});

export const transferEventSource = setting({
  context: 'transferEventSource',
  kind: customSource,
  default: 'contact-transfer-gateway',
  meaning: 'the `source` of the `Contact Transferred`, `Contact Transfer Failed` and `Contact Transfer Skipped` events',
});

export const memorySize = setting({
  context: 'memorySize',
  // Lambda's limits.
  kind: numberIn(128, 10_240),
  // Chosen by `npm run bench` from latency and cost by memory size (docs/performance.md).
  default: 512,
  meaning: 'each function\'s memory in MB (Lambda gives CPU in proportion)',
});

export const stageName = setting({
  context: 'stageName',
  env: 'TRANSFER_API_STAGE',
  kind: text(/^[A-Za-z0-9_-]{1,128}$/, 'an API Gateway stage name (letters, digits, _ and -)', 'prod'),
  default: 'prod',
  meaning: 'the API stage; API Gateway events must name it',
});

// Set by the construct from what it creates; the function checks them at cold start like the rest.

export const idempotencyTable = setting({
  env: 'IDEMPOTENCY_TABLE_NAME',
  kind: name,
  absent: 'required',
  meaning: 'the idempotency table (set by the construct)',
});

export const ledgerTable = setting({
  env: 'LEDGER_TABLE_NAME',
  kind: name,
  absent: 'required',
  meaning: 'the transfer ledger (set by the construct)',
});

export const stackAccount = setting({
  env: 'STACK_ACCOUNT_ID',
  kind: account,
  absent: 'the instance\'s account',
  meaning: 'the account API Gateway events (`requestContext.accountId`) and EventBridge events (`account`) must name (set by the construct)',
});

export const apiId = setting({
  env: 'TRANSFER_API_ID',
  kind: text(/^[a-z0-9]{1,32}$/, 'a REST API id (lower-case letters and digits)', 'a1b2c3d4e5'),
  absent: 'none: no event is taken for an API Gateway one',
  meaning: 'the REST API that API Gateway events must name (set by the construct)',
});

export const eventBufferQueueArn = setting({
  env: 'EVENT_BUFFER_QUEUE_ARN',
  kind: sqsQueueArn('buffer'),
  absent: 'none: no event door',
  meaning: 'the buffer the event door takes SQS records from (set by the construct)',
});

export const eventMaxReceives = setting({
  env: 'EVENT_MAX_RECEIVES',
  // SQS allows 1 to 1000 receives before a message is dead-lettered.
  kind: numberIn(1, 1000),
  absent: `required with EVENT_BUFFER_QUEUE_ARN`,
  meaning: 'the buffer\'s maxReceiveCount: the last receive of a record is its last try (set by the construct)',
});

export const deadLetterQueueArn = setting({
  env: 'EVENT_DEAD_LETTER_QUEUE_ARN',
  kind: sqsQueueArn('dead-letters'),
  absent: 'none: no dead-letter door',
  meaning: 'the dead-letter queue whose records the function turns into failure records (set by the construct)',
});

export const transferRuleArn = setting({
  env: 'TRANSFER_RULE_ARN',
  kind: text(/^arn:[\w-]+:events:[\w-]+:\d{12}:rule\/[\w.-]+$/, 'an EventBridge rule ARN', 'arn:aws:events:us-east-1:111122223333:rule/transfer-rule'),
  absent: 'required with EVENT_DEAD_LETTER_QUEUE_ARN',
  meaning: 'the rule that delivers TransferContact events into the buffer: the dead-letter door answers only its delivery failures (set by the construct)',
});

export const sweepRuleArn = setting({
  env: 'SWEEP_RULE_ARN',
  kind: text(/^arn:[\w-]+:events:[\w-]+:\d{12}:rule\/[\w.-]+$/, 'an EventBridge rule ARN', 'arn:aws:events:us-east-1:111122223333:rule/sweep'),
  absent: 'none: no sweep',
  meaning: 'the schedule rule whose events sweep stale PENDING intents (set by the construct)',
});

export const sweepAfterSeconds = setting({
  env: 'SWEEP_AFTER_SECONDS',
  // Any value is safe: a sweep settles an intent under the idempotency lock a running invocation holds; younger
  // intents only cost the sweep lock attempts. A schedule taken back under a running create is written again by that
  // create. The construct sets the function's timeout plus a margin.
  kind: numberIn(0, 86400),
  default: 960,
  meaning: 'how old a PENDING intent, or a schedule whose create stopped before the scheduler held it, must be before a sweep settles or takes it back (set by the construct)',
});

export const schedulesTable = setting({
  env: 'SCHEDULES_TABLE',
  kind: name,
  absent: 'none: no scheduled transfers (the schedule routes answer 404)',
  meaning: 'the scheduled transfers\' state (set by the construct)',
});

export const scheduleGroupName = setting({
  env: 'SCHEDULE_GROUP_NAME',
  // EventBridge Scheduler's group names.
  kind: text(/^[0-9a-zA-Z-_.]{1,64}$/, 'an EventBridge Scheduler group name', 'transfers'),
  absent: 'required with SCHEDULES_TABLE',
  meaning: 'the stack\'s own schedule group, the only one the function creates and deletes schedules in (set by the construct)',
});

export const schedulerRoleArn = setting({
  env: 'SCHEDULER_ROLE_ARN',
  kind: text(/^arn:[\w-]+:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'an IAM role ARN', 'arn:aws:iam::111122223333:role/scheduler'),
  absent: 'required with SCHEDULES_TABLE',
  meaning: 'the role EventBridge Scheduler assumes to send a fired schedule to the event buffer (set by the construct)',
});

export const scheduleTargetArn = setting({
  env: 'SCHEDULE_TARGET_ARN',
  kind: sqsQueueArn('buffer'),
  absent: 'required with SCHEDULES_TABLE',
  meaning: 'the event buffer a fired schedule is sent to (set by the construct)',
});

export const scheduleDeadLetterArn = setting({
  env: 'SCHEDULE_DEAD_LETTER_ARN',
  kind: sqsQueueArn('schedule-dead-letters'),
  absent: 'required with SCHEDULES_TABLE',
  meaning: 'the queue EventBridge Scheduler sends a fired schedule it could not deliver to (set by the construct)',
});

export const serviceName = setting({
  env: 'POWERTOOLS_SERVICE_NAME',
  kind: name,
  default: 'contact-transfer-gateway',
  meaning: 'the `service` of log lines and the metrics\' dimension (the construct sets `<stack>-<construct id>`)',
});

export const metricsNamespace = setting({
  env: 'POWERTOOLS_METRICS_NAMESPACE',
  kind: name,
  default: 'ContactTransferGateway',
  meaning: 'the CloudWatch namespace of the metrics (set by the construct)',
});

export const metricsDisabled = setting({
  env: 'POWERTOOLS_METRICS_DISABLED',
  kind: flag(),
  default: false,
  setBy: 'you (local mode sets it)',
  meaning: 'Powertools publishes no metrics',
});

/** The table, in docs/configuration.md's order. */
export const SETTINGS = {
  connectInstanceArn,
  allowedChannels,
  maxTransfers,
  eventSources,
  allowedAccounts,
  allowedOrganizationId,
  throttlingRateLimit,
  throttlingBurstLimit,
  logLevel,
  logRetentionDays,
  metadataCacheTtlSeconds,
  idempotencyTtlSeconds,
  ledgerRetentionDays,
  alarmTopicArn,
  alarmEmail,
  bufferAgeAlarmSeconds,
  tracing,
  vpcEndpointIds,
  transferRatePerSecond,
  transferBurst,
  transferEventSource,
  memorySize,
  stageName,
  idempotencyTable,
  ledgerTable,
  stackAccount,
  apiId,
  eventBufferQueueArn,
  eventMaxReceives,
  deadLetterQueueArn,
  transferRuleArn,
  sweepRuleArn,
  sweepAfterSeconds,
  schedulesTable,
  scheduleGroupName,
  schedulerRoleArn,
  scheduleTargetArn,
  scheduleDeadLetterArn,
  serviceName,
  metricsNamespace,
  metricsDisabled,
} as const;

export type SettingName = keyof typeof SETTINGS;
export type ValueOf<S> = S extends Setting<infer T> ? T : never;
