/**
 * Seed format of the Connect simulator (JSON):
 * {
 *   "instance": { "id": "<instanceId>", "arn": "arn:aws:connect:<region>:<account>:instance/<instanceId>" },
 *   "contacts": [{ "Id", "Channel": "VOICE|CHAT|TASK|EMAIL", "InitiationMethod"?, "InitialContactId"?,
 *                  "PreviousContactId"?, "InitiationTimestamp"? (ISO), "DisconnectTimestamp"? (ISO: the contact has ended),
 *                  "QueueId"?, "EnqueueTimestamp"? (ISO), "AgentId"?, "ConnectedToAgentTimestamp"? (ISO: the agent
 *                  accepted it), "LastPausedTimestamp"?, "LastResumedTimestamp"?, "ScheduledTimestamp"? (ISO) }],
 *   "flows":    [{ "Id", "Name", "Type": "CONTACT_FLOW|AGENT_TRANSFER|QUEUE_TRANSFER|CUSTOMER_QUEUE|...",
 *                  "State": "ACTIVE|ARCHIVED", "Status": "PUBLISHED|SAVED" }],
 *   "queues":   [{ "Id", "Name", "Status": "ENABLED|DISABLED" }],
 *   "users":    [{ "Id", "Username" }]
 * }
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SeedContact {
  readonly Id: string;
  readonly Channel: string;
  readonly InitiationMethod?: string;
  readonly InitialContactId?: string;
  readonly PreviousContactId?: string;
  readonly InitiationTimestamp?: string;
  readonly DisconnectTimestamp?: string;
  readonly QueueId?: string;
  readonly EnqueueTimestamp?: string;
  readonly AgentId?: string;
  readonly ConnectedToAgentTimestamp?: string;
  readonly LastPausedTimestamp?: string;
  readonly LastResumedTimestamp?: string;
  readonly ScheduledTimestamp?: string;
}
export interface SeedFlow {
  readonly Id: string;
  readonly Name: string;
  readonly Type: string;
  readonly State: string;
  readonly Status: string;
}
export interface SeedQueue {
  readonly Id: string;
  readonly Name: string;
  readonly Status: string;
}
export interface SeedUser {
  readonly Id: string;
  readonly Username: string;
}
export interface Seed {
  readonly instance: { readonly id: string; readonly arn: string };
  readonly contacts: readonly SeedContact[];
  readonly flows: readonly SeedFlow[];
  readonly queues: readonly SeedQueue[];
  readonly users: readonly SeedUser[];
}

/** A contact's ISO timestamps in a seed. */
const TIMESTAMPS = [
  'InitiationTimestamp',
  'DisconnectTimestamp',
  'EnqueueTimestamp',
  'ConnectedToAgentTimestamp',
  'LastPausedTimestamp',
  'LastResumedTimestamp',
  'ScheduledTimestamp',
] as const;

export const DEMO_SEED_PATH = join(__dirname, 'demo-seed.json');

export class SeedError extends Error {
  constructor(source: string, field: string, expectation: string) {
    super(`Seed ${source}: ${field} ${expectation}`);
    this.name = 'SeedError';
  }
}

export function loadSeed(path: string = DEMO_SEED_PATH): Seed {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new SeedError(path, 'file', `could not be read as JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  return parseSeed(raw, path);
}

/** Checks every record so a typo in a hand-written seed names the field instead of failing mid-request. */
export function parseSeed(raw: unknown, source = 'seed'): Seed {
  const object = (value: unknown, field: string): Record<string, unknown> => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SeedError(source, field, 'must be an object');
    return value as Record<string, unknown>;
  };
  const text = (record: Record<string, unknown>, field: string, where: string, optional = false): void => {
    const value = record[field];
    if (value === undefined && optional) return;
    if (typeof value !== 'string' || value === '') throw new SeedError(source, `${where}.${field}`, 'must be a non-empty string');
  };
  const list = (root: Record<string, unknown>, field: string, required: string[], optional: string[] = []): void => {
    const value = root[field] ?? [];
    if (!Array.isArray(value)) throw new SeedError(source, field, 'must be an array');
    value.forEach((item: unknown, index) => {
      const where = `${field}[${index}]`;
      const record = object(item, where);
      required.forEach((name) => text(record, name, where));
      optional.forEach((name) => text(record, name, where, true));
      for (const name of TIMESTAMPS) {
        if (typeof record[name] === 'string' && Number.isNaN(Date.parse(record[name]))) throw new SeedError(source, `${where}.${name}`, 'must be an ISO timestamp');
      }
    });
  };
  const root = object(raw, 'root');
  const instance = object(root.instance, 'instance');
  text(instance, 'id', 'instance');
  text(instance, 'arn', 'instance');
  if (!String(instance.arn).endsWith(`:instance/${String(instance.id)}`)) throw new SeedError(source, 'instance.arn', 'must end with :instance/<instance.id>');
  list(root, 'contacts', ['Id', 'Channel'], ['InitiationMethod', 'InitialContactId', 'PreviousContactId', 'QueueId', 'AgentId', ...TIMESTAMPS]);
  list(root, 'flows', ['Id', 'Name', 'Type', 'State', 'Status']);
  list(root, 'queues', ['Id', 'Name', 'Status']);
  list(root, 'users', ['Id', 'Username']);
  return {
    instance: { id: String(instance.id), arn: String(instance.arn) },
    contacts: (root.contacts ?? []) as SeedContact[],
    flows: (root.flows ?? []) as SeedFlow[],
    queues: (root.queues ?? []) as SeedQueue[],
    users: (root.users ?? []) as SeedUser[],
  };
}

/** An empty instance for tests that add their own resources. */
export function emptySeed(instanceId = '11111111-2222-4333-8444-555555555555', account = '111122223333', region = 'us-east-1'): Seed {
  return { instance: { id: instanceId, arn: `arn:aws:connect:${region}:${account}:instance/${instanceId}` }, contacts: [], flows: [], queues: [], users: [] };
}
