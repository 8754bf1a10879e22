import { parseInstanceArn } from './domain/arn';
import type { ConnectInstance } from './domain/arn';
import {
  allowedChannels,
  apiId,
  connectInstanceArn,
  deadLetterQueueArn,
  eventBufferQueueArn,
  eventMaxReceives,
  eventSources,
  idempotencyTable,
  idempotencyTtlSeconds,
  ledgerRetentionDays,
  ledgerTable,
  maxTransfers,
  metadataCacheTtlSeconds,
  metricsNamespace,
  scheduleDeadLetterArn,
  scheduleGroupName,
  schedulerRoleArn,
  schedulesTable,
  scheduleTargetArn,
  serviceName,
  stackAccount,
  stageName,
  sweepAfterSeconds,
  sweepRuleArn,
  transferBurst,
  transferRatePerSecond,
  transferRuleArn,
} from './settings';
import type { Setting } from './settings';

/** The environment variable of a setting the function reads. */
/* @__NO_SIDE_EFFECTS__ */
function envOf(definition: { readonly env?: string }): string {
  if (definition.env === undefined) throw new Error('No such variable');
  return definition.env;
}

/** Environment variables the function reads, named by the settings table (settings.ts); the stack sets them. */
export const ENV = {
  instanceArn: envOf(connectInstanceArn),
  allowedChannels: envOf(allowedChannels),
  maxTransfers: envOf(maxTransfers),
  idempotencyTable: envOf(idempotencyTable),
  ledgerTable: envOf(ledgerTable),
  metadataCacheTtlSeconds: envOf(metadataCacheTtlSeconds),
  idempotencyTtlSeconds: envOf(idempotencyTtlSeconds),
  ledgerRetentionDays: envOf(ledgerRetentionDays),
  stackAccount: envOf(stackAccount),
  apiId: envOf(apiId),
  apiStage: envOf(stageName),
  eventSources: envOf(eventSources),
  transferRatePerSecond: envOf(transferRatePerSecond),
  transferBurst: envOf(transferBurst),
  eventBufferQueueArn: envOf(eventBufferQueueArn),
  eventMaxReceives: envOf(eventMaxReceives),
  serviceName: envOf(serviceName),
  metricsNamespace: envOf(metricsNamespace),
  deadLetterQueueArn: envOf(deadLetterQueueArn),
  transferRuleArn: envOf(transferRuleArn),
  sweepRuleArn: envOf(sweepRuleArn),
  sweepAfterSeconds: envOf(sweepAfterSeconds),
  schedulesTable: envOf(schedulesTable),
  scheduleGroupName: envOf(scheduleGroupName),
  schedulerRoleArn: envOf(schedulerRoleArn),
  scheduleTargetArn: envOf(scheduleTargetArn),
  scheduleDeadLetterArn: envOf(scheduleDeadLetterArn),
} as const;

/** Powertools names; the stack also sets them as POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE. */
export const SERVICE_NAME = serviceName.default ?? '';
export const METRICS_NAMESPACE = metricsNamespace.default ?? '';

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
  /** With the dead-letter queue: the rule delivering into the buffer, whose delivery failures the dead-letter door answers. */
  readonly transferRuleArn?: string;
  /** The schedule rule whose events sweep PENDING intents older than `afterMs` (lambda/doors/sweep.ts). */
  readonly sweep?: { readonly ruleArn: string; readonly afterMs: number };
  /** Scheduled transfers (contract section 12): present only when the stack names their table. */
  readonly schedules?: ScheduleSettings;
}

/** Where scheduled transfers' state lives and what EventBridge Scheduler is told to send where, with which role. */
export interface ScheduleSettings {
  readonly table: string;
  readonly groupName: string;
  readonly roleArn: string;
  readonly targetArn: string;
  readonly deadLetterArn: string;
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

/** Reads and checks every variable once, against the settings table; a bad one fails the cold start with one line naming it. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  function read<T>(definition: Setting<T>): T | undefined {
    const name = envOf(definition);
    const raw = env[name]?.trim();
    if (!raw) return definition.default;
    const parsed = definition.kind.parse(raw);
    if (parsed === undefined) throw new ConfigurationError(name, `must be ${definition.kind.expectation}, got "${raw}"`);
    return parsed;
  }
  function required<T>(definition: Setting<T>): T {
    const value = read(definition);
    if (value === undefined) throw new ConfigurationError(envOf(definition), 'is required');
    return value;
  }

  function requiredWith<T>(definition: Setting<T>, companion: Setting<unknown>): T {
    const value = read(definition);
    if (value === undefined) throw new ConfigurationError(envOf(definition), `is required with ${envOf(companion)}`);
    return value;
  }

  // The parser accepted it, so it is an instance ARN.
  const instance = parseInstanceArn(required(connectInstanceArn)) as ConnectInstance;
  const stage = required(stageName);
  const api = read(apiId);
  const buffer = read(eventBufferQueueArn);
  const deadLetters = read(deadLetterQueueArn);
  const sweepRule = read(sweepRuleArn);
  const schedules = read(schedulesTable);
  return {
    instance,
    allowedChannels: required(allowedChannels),
    maxTransfers: required(maxTransfers),
    idempotencyTable: required(idempotencyTable),
    ledgerTable: required(ledgerTable),
    metadataCacheTtlMs: required(metadataCacheTtlSeconds) * 1000,
    idempotencyTtlSeconds: required(idempotencyTtlSeconds),
    ledgerRetentionDays: required(ledgerRetentionDays),
    doors: {
      // The stack deploys to the instance's account (the function's role can only call Connect there).
      account: read(stackAccount) ?? instance.account,
      ...(api !== undefined && { api: { id: api, stage } }),
      eventSources: required(eventSources),
    },
    pace: { ratePerSecond: required(transferRatePerSecond), burst: required(transferBurst) },
    // Without a buffer queue the function has no event door: an SQS-shaped payload is then a direct invocation.
    ...(buffer !== undefined && { eventBuffer: { queueArn: buffer, maxReceives: requiredWith(eventMaxReceives, eventBufferQueueArn) } }),
    // The dead-letter door and the sweeper, each present only when the stack names its queue or rule.
    ...(deadLetters !== undefined && { deadLetterQueueArn: deadLetters, transferRuleArn: requiredWith(transferRuleArn, deadLetterQueueArn) }),
    ...(sweepRule !== undefined && { sweep: { ruleArn: sweepRule, afterMs: required(sweepAfterSeconds) * 1000 } }),
    ...(schedules !== undefined && {
      schedules: {
        table: schedules,
        groupName: requiredWith(scheduleGroupName, schedulesTable),
        roleArn: requiredWith(schedulerRoleArn, schedulesTable),
        targetArn: requiredWith(scheduleTargetArn, schedulesTable),
        deadLetterArn: requiredWith(scheduleDeadLetterArn, schedulesTable),
      },
    }),
  };
}
