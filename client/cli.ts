import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { createTransferClient, idempotencyKeyOf, isLocalEndpoint, regionOfEndpoint, TRANSFER_CONTACT_MEMBERS, TransferContactError } from './index';
import type { CredentialsOption, TransferClient, TransferConditions, TransferContactRequest } from './index';

/**
 * `transfer-contact`: the gateway's TransferContact with the AWS CLI's conventions for `aws connect transfer-contact`,
 * so a command line written for Connect works here with `--endpoint` added.
 */

export const EXIT = {
  OK: 0,
  /** Anything not below: no credentials, an answer the client cannot read. */
  OTHER: 1,
  USAGE: 2,
  CLIENT_ERROR: 3,
  THROTTLED: 4,
  SERVER_ERROR: 5,
} as const;

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** The process environment (a plain record, so the declarations need no Node types). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** For `file://` inputs; relative paths resolve against the process's working directory. */
  readonly readFile?: (path: string) => Promise<string>;
  readonly fetch?: typeof fetch;
  /** Overrides the default credential provider chain (tests; apps that hold credentials already). */
  readonly credentials?: CredentialsOption;
}

type Member = Exclude<(typeof TRANSFER_CONTACT_MEMBERS)[number], 'Conditions'>;
const STRING_MEMBERS = TRANSFER_CONTACT_MEMBERS.filter((member): member is Member => member !== 'Conditions');

/** Flag per request member, as the AWS CLI spells them. */
const MEMBER_FLAGS: Record<Member, string> = {
  InstanceId: 'instance-id',
  ContactId: 'contact-id',
  ContactFlowId: 'contact-flow-id',
  QueueId: 'queue-id',
  UserId: 'user-id',
  ClientToken: 'client-token',
  Note: 'note',
};

/** One flag per condition of contract section 11. */
const CONDITION_FLAGS = { InQueue: 'in-queue', NotWithAgent: 'not-with-agent', QueuedForSeconds: 'queued-for-seconds' } as const satisfies Record<keyof TransferConditions, string>;

/** The options every command of this package takes to reach and sign for the gateway. */
export const CONNECTION_OPTIONS = {
  endpoint: { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
} as const;

/** The flags of a transfer request, for every command that sends one. */
export const REQUEST_OPTIONS = {
  'instance-id': { type: 'string' },
  'contact-id': { type: 'string' },
  'contact-flow-id': { type: 'string' },
  'queue-id': { type: 'string' },
  'user-id': { type: 'string' },
  'client-token': { type: 'string' },
  note: { type: 'string' },
  'in-queue': { type: 'string' },
  'not-with-agent': { type: 'boolean' },
  'queued-for-seconds': { type: 'string' },
  'cli-input-json': { type: 'string' },
  'generate-cli-skeleton': { type: 'boolean' },
} as const;

/** Every command's --help. */
export const HELP_FLAG = { help: { type: 'boolean', short: 'h' } } as const;

const OPTIONS = { ...REQUEST_OPTIONS, ...CONNECTION_OPTIONS, ...HELP_FLAG } as const;

export const HELP = `Usage: transfer-contact --contact-id <id> --contact-flow-id <id> [--queue-id <id> | --user-id <id>]
                        [--instance-id <id>] [--client-token <token>] [--note <text>]
                        [--in-queue <id|arn>] [--not-with-agent] [--queued-for-seconds <n>]
                        [--cli-input-json <json|file://path>]
                        [--endpoint <url>] [--region <region>] [--profile <name>]
       transfer-contact --generate-cli-skeleton [input|output]

Transfers an Amazon Connect TASK or EMAIL contact through the contact transfer gateway (POST /contact/transfer),
signed with SigV4 (execute-api) using the AWS default credential chain. Members and meaning are those of
Connect's TransferContact.

Request:
  --contact-id <id>          Required. The contact to transfer (1..256 chars).
  --contact-flow-id <id>     Required. The flow to transfer it to (1..500 chars).
  --queue-id <id|arn>        The queue to transfer to (with a Transfer to queue or Inbound flow).
  --user-id <id|arn>         The agent to transfer to (with a Transfer to agent or Inbound flow). Not with --queue-id.
  --instance-id <id|arn>     Optional: the gateway is bound to one instance; given, it must be that one.
  --client-token <token>     Idempotency token (1..500 chars). Without one the gateway keys the request by
                             its ContactId, ContactFlowId, QueueId and UserId, so running the same command
                             again (for example after a timeout) is a replay, never a second transfer.
                             The token or key used is printed on stderr.
  --note <text>              Why, in your words (1..256 printable chars): kept in the ledger, shown in the
                             history, carried by every event.

Conditions (transfer only if all hold; otherwise 409 CONDITION_NOT_MET, nothing transferred):
  --in-queue <id|arn>        The contact waits in this queue and no agent has accepted it.
  --not-with-agent           No agent has accepted the contact.
  --queued-for-seconds <n>   The contact has waited in its current queue at least n seconds (1..2592000).
  --cli-input-json <json>    The request as JSON, inline or file://path. Flags given as well override its members.
                             Members left as "" (as in the skeleton) are omitted.
  --generate-cli-skeleton    Print a sample request with every member ("output": a sample result) and exit.

Connection:
  --endpoint <url>           The API's base URL with its stage (the stack's ApiEndpoint output), e.g.
                             https://abc123.execute-api.us-east-1.amazonaws.com/prod
                             (default: $TRANSFER_GATEWAY_ENDPOINT).
                             Local mode (http://127.0.0.1:3000) needs no Region and no credentials.
  --region <region>          The API's Region for signing (default: the Region in an execute-api endpoint,
                             then $AWS_REGION, $AWS_DEFAULT_REGION).
  --profile <name>           The AWS profile to sign with (default: $AWS_PROFILE, then the default chain).
  -h, --help                 Show this help.
  Retries: 429, 5xx, network errors and 409 REQUEST_IN_PROGRESS are retried with backoff and the same
  idempotency key; attempts in all default to 3 ($AWS_MAX_ATTEMPTS overrides). Other 4xx are never retried.

Output: the result {"ContactId", "ContactArn", "replayed"} as JSON on stdout, and one line on stderr naming
the idempotency key used. On failure, the error as JSON on stderr ({"Type", "ReasonCode", "Message", "Status",
"RequestId", "ClientToken" or "IdempotencyKey", ...}).

Exit codes: 0 transferred (or replayed), 1 other failure (e.g. no credentials), 2 usage error,
            3 rejected (4xx), 4 throttled (429), 5 server or network error (5xx, no answer).
`;

export const INPUT_SKELETON = {
  InstanceId: '',
  ContactId: '',
  ContactFlowId: '',
  QueueId: '',
  UserId: '',
  ClientToken: '',
  Note: '',
  Conditions: { InQueue: '', NotWithAgent: false, QueuedForSeconds: 0 },
} as const satisfies Record<Member | 'Conditions', unknown>;
const OUTPUT_SKELETON = { ContactId: '', ContactArn: '', replayed: false };

/** A mistake on the command line: exit 2 with the message and a pointer to --help. */
export class UsageError extends Error {}

/** A command's entry point on plain Node: real stdio and environment, and the exit code set once stdout drained. */
export function runFromProcess(run: (argv: readonly string[], io: CliIo) => Promise<number>): void {
  run(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
  }).then(
    (code) => {
      // exitCode rather than exit(): lets stdout drain when it is a pipe.
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}

/** Runs one command and turns what went wrong into the output and exit code the AWS CLI's users expect. */
export async function runCommand(command: string, body: () => Promise<number>, io: CliIo): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`${command}: ${error.message}\nRun '${command} --help' for the options.\n`);
      return EXIT.USAGE;
    }
    if (error instanceof TransferContactError) {
      io.stderr(`${JSON.stringify(error, null, 4)}\n`);
      return exitCodeOf(error);
    }
    io.stderr(`${command}: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.OTHER;
  }
}

/** One command: parse its options, answer --help, then run. */
export function command<T extends OptionsConfig & typeof HELP_FLAG>(
  name: string,
  options: T,
  help: string,
  body: (parsed: ReturnType<typeof parseOptions<T>>, io: CliIo) => Promise<number>,
): (argv: readonly string[], io: CliIo) => Promise<number> {
  return (argv, io) =>
    runCommand(
      name,
      async () => {
        const parsed = parseOptions(argv, options);
        // node:util types the values of a generic options object loosely; every command's options have HELP_FLAG.
        if ((parsed.values as { help?: boolean }).help) {
          io.stdout(help);
          return EXIT.OK;
        }
        return body(parsed, io);
      },
      io,
    );
}

/** A flag the command cannot go without. */
export function required(value: string | undefined, flag: string): string {
  if (!value) throw new UsageError(`missing required --${flag}.`);
  return value;
}

export function exitCodeOf(error: TransferContactError): number {
  if (error.status === 429) return EXIT.THROTTLED;
  if (error.status === 0) return error.reason === 'NETWORK_ERROR' ? EXIT.SERVER_ERROR : EXIT.OTHER;
  if (error.status >= 500) return EXIT.SERVER_ERROR;
  if (error.status >= 400) return EXIT.CLIENT_ERROR;
  return EXIT.OTHER;
}

export const main = command('transfer-contact', OPTIONS, HELP, async ({ values, positionals }, io) => {
  if (values['generate-cli-skeleton']) return printSkeleton(positionals, { input: INPUT_SKELETON, output: OUTPUT_SKELETON }, io);
  noPositionals(positionals);

  const { request } = await requestOf(values, io);
  const client = connectedClient(values, io);
  const result = await client.transferContact(request);
  printIdempotentResult('transfer-contact', request, result, 'no second transfer', io);
  return EXIT.OK;
});

/** The result on stdout alone, for a pipe into jq; the idempotency key a re-run would reuse on stderr. */
export function printIdempotentResult(command: string, request: { readonly ClientToken?: string | undefined }, result: { readonly replayed: boolean }, replayMeans: string, io: CliIo): void {
  io.stdout(`${JSON.stringify(result, null, 4)}\n`);
  io.stderr(`${command}: idempotency key: ${idempotencyKeyOf(request.ClientToken)}${result.replayed ? ` (replayed: ${replayMeans})` : ''}\n`);
}

/** As the AWS CLI's `--generate-cli-skeleton [input|output]`. */
export function printSkeleton(positionals: readonly string[], skeletons: { input: unknown; output: unknown }, io: CliIo): number {
  const [kind = 'input', ...rest] = positionals;
  if (rest.length > 0 || (kind !== 'input' && kind !== 'output')) {
    throw new UsageError(`--generate-cli-skeleton takes 'input' or 'output', not '${positionals.join(' ')}'.`);
  }
  io.stdout(`${JSON.stringify(skeletons[kind], null, 4)}\n`);
  return EXIT.OK;
}

export function noPositionals(positionals: readonly string[]): void {
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'; every value follows its option.`);
}

/** A client for the gateway named by --endpoint (or TRANSFER_GATEWAY_ENDPOINT), signing for --region as --profile. */
export function connectedClient(values: { endpoint?: string | undefined; region?: string | undefined; profile?: string | undefined }, io: CliIo): TransferClient {
  const endpoint = values.endpoint ?? io.env.TRANSFER_GATEWAY_ENDPOINT;
  if (!endpoint) throw new UsageError('no endpoint: pass --endpoint <invoke URL with stage> or set TRANSFER_GATEWAY_ENDPOINT.');
  // An endpoint that is no URL is the client's to explain, below.
  const url = URL.canParse(endpoint) ? new URL(endpoint) : undefined;
  const local = url !== undefined && isLocalEndpoint(url);
  // The API's host name fixes the Region its signature must name, so it comes before the shell's default Region.
  const region = values.region || (url && regionOfEndpoint(url)) || io.env.AWS_REGION || io.env.AWS_DEFAULT_REGION || undefined;
  if (url && !region && !local) throw new UsageError(`no Region to sign for: ${url.host} does not name one; pass --region or set AWS_REGION.`);
  // Local mode checks no signature, so there only a named profile (or credentials the caller holds) signs.
  const credentials = io.credentials ?? (local && !values.profile ? undefined : defaultProvider(values.profile ? { profile: values.profile } : {}));
  const maxAttempts = io.env.AWS_MAX_ATTEMPTS ? Number(io.env.AWS_MAX_ATTEMPTS) : undefined;
  if (maxAttempts !== undefined && !(Number.isInteger(maxAttempts) && maxAttempts >= 1)) {
    throw new UsageError(`AWS_MAX_ATTEMPTS must be a positive integer, not '${io.env.AWS_MAX_ATTEMPTS}'.`);
  }
  return usage(() =>
    createTransferClient({
      endpoint,
      ...(region && { region }),
      ...(credentials && { credentials }),
      ...(maxAttempts !== undefined && { maxAttempts }),
      ...(io.fetch && { fetch: io.fetch }),
    }),
  );
}

/** The client checks the endpoint's form; on the command line a bad one is a usage error. */
function usage<T>(build: () => T): T {
  try {
    return build();
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** node:util's parser, with its errors turned into usage errors that name the option and suggest the likely one. */
export function parseOptions<T extends OptionsConfig>(argv: readonly string[], options: T): ReturnType<typeof parseArgs<{ options: T; allowPositionals: true }>> {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(describeParseError(error, options));
  }
}

/** node:util's messages are written for scripts that take positionals; name the option and suggest the likely one. */
function describeParseError(error: unknown, options: OptionsConfig): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof Error && 'code' in error ? error.code : undefined;
  const quoted = /'([^']+)'/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && quoted) {
    const suggestion = closestOption(quoted, Object.keys(options));
    return `unknown option '${quoted}'${suggestion ? `; did you mean '--${suggestion}'?` : '.'}`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && quoted) {
    const name = quoted.split(' ')[0] ?? quoted;
    return options[name.replace(/^-+/, '')]?.type === 'boolean'
      ? `option '${name}' takes no value.`
      : `option '${name}' needs a value.`;
  }
  return message;
}

function closestOption(given: string, known: readonly string[]): string | undefined {
  const name = given.replace(/^-+/, '').split('=')[0]?.toLowerCase() ?? '';
  const normalized = (text: string): string => text.toLowerCase().replace(/[-_]/g, '');
  let best: { option: string; distance: number } | undefined;
  for (const option of known) {
    const distance = normalized(option) === normalized(name) ? 0 : editDistance(option, name);
    if (distance <= 3 && (!best || distance < best.distance)) best = { option, distance };
  }
  return best?.option;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] ?? Math.max(a.length, b.length);
}

interface CliRequest {
  members: Partial<Record<Member, string>>;
  conditions: { -readonly [K in keyof TransferConditions]: TransferConditions[K] };
  /** Members of --cli-input-json the command itself adds to the transfer request, unchecked here. */
  extra: Record<string, unknown>;
}

type RequestValues = ReturnType<typeof parseArgs<{ options: typeof REQUEST_OPTIONS; allowPositionals: true }>>['values'];

/**
 * The transfer request from the flags and --cli-input-json (flags win), and the members a command adds to it
 * (`extraMembers`, accepted in --cli-input-json) as they were given.
 */
export async function requestOf(
  values: RequestValues,
  io: CliIo,
  extraMembers: readonly string[] = [],
): Promise<{ request: TransferContactRequest; extra: Record<string, unknown> }> {
  const merged: CliRequest = values['cli-input-json'] === undefined ? { members: {}, conditions: {}, extra: {} } : await cliInput(values['cli-input-json'], io, extraMembers);
  for (const member of STRING_MEMBERS) {
    const flag = MEMBER_FLAGS[member];
    const value = values[flag as keyof RequestValues];
    if (typeof value !== 'string') continue;
    if (value === '') throw new UsageError(`option '--${flag}' needs a non-empty value.`);
    merged.members[member] = value;
  }
    const inQueue = values['in-queue'];
  if (inQueue !== undefined) {
    if (inQueue === '') throw new UsageError(`option '--${CONDITION_FLAGS.InQueue}' needs a non-empty value.`);
    merged.conditions.InQueue = inQueue;
  }
  if (values['not-with-agent']) merged.conditions.NotWithAgent = true;
  const seconds = values['queued-for-seconds'];
  if (seconds !== undefined) {
    if (!/^\d+$/.test(seconds)) throw new UsageError(`option '--${CONDITION_FLAGS.QueuedForSeconds}' needs a whole number of seconds, not '${seconds}'.`);
    merged.conditions.QueuedForSeconds = Number(seconds);
  }
  const missing = (['ContactId', 'ContactFlowId'] as const).filter((member) => merged.members[member] === undefined);
  if (missing.length > 0) {
    throw new UsageError(`missing required ${missing.map((member) => `--${MEMBER_FLAGS[member]}`).join(' and ')} (or ${missing.join(' and ')} in --cli-input-json).`);
  }
  const { ContactId, ContactFlowId, ...optional } = merged.members as Partial<Record<Member, string>> & { ContactId: string; ContactFlowId: string };
  return {
    request: { ContactId, ContactFlowId, ...optional, ...(Object.keys(merged.conditions).length > 0 && { Conditions: merged.conditions }) },
    extra: merged.extra,
  };
}

/** As the AWS CLI: the value is JSON, or `file://path` naming a file of JSON. */
async function cliInput(value: string, io: CliIo, extraMembers: readonly string[]): Promise<CliRequest> {
  let text = value;
  if (value.startsWith('file://')) {
    const path = value.slice('file://'.length);
    try {
      text = await (io.readFile ?? ((file: string) => readFile(file, 'utf8')))(path);
    } catch (error) {
      throw new UsageError(`--cli-input-json: cannot read '${path}': ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`--cli-input-json is not valid JSON (${error instanceof Error ? error.message : String(error)}).`);
  }
  if (!isObject(parsed)) throw new UsageError('--cli-input-json must be a JSON object.');
  const input: CliRequest = { members: {}, conditions: {}, extra: {} };
  for (const [key, member] of Object.entries(parsed)) {
    if (extraMembers.includes(key)) {
      input.extra[key] = member;
      continue;
    }
    // A misspelt member must not quietly become a transfer to the flow alone (contract section 2).
    if (!(TRANSFER_CONTACT_MEMBERS as readonly string[]).includes(key)) {
      throw new UsageError(`unknown parameter '${key}' in --cli-input-json; valid: ${[...TRANSFER_CONTACT_MEMBERS, ...extraMembers].join(', ')}.`);
    }
    if (key === 'Conditions') {
      input.conditions = conditionsOf(member);
      continue;
    }
    if (typeof member !== 'string') throw new UsageError(`parameter '${key}' in --cli-input-json must be a string.`);
    if (member !== '') input.members[key as Member] = member;
  }
  return input;
}

/** The skeleton's placeholders ("", false, 0) mean "not asked for"; the gateway checks everything else. */
function conditionsOf(value: unknown): CliRequest['conditions'] {
  if (!isObject(value)) throw new UsageError("parameter 'Conditions' in --cli-input-json must be a JSON object.");
  const conditions: CliRequest['conditions'] = {};
  for (const [key, member] of Object.entries(value)) {
    if (!(key in CONDITION_FLAGS)) throw new UsageError(`unknown parameter 'Conditions.${key}' in --cli-input-json; valid: ${Object.keys(CONDITION_FLAGS).join(', ')}.`);
    if (key === 'InQueue' && typeof member === 'string' && member !== '') conditions.InQueue = member;
    else if (key === 'NotWithAgent' && member === true) conditions.NotWithAgent = true;
    else if (key === 'QueuedForSeconds' && typeof member === 'number' && member !== 0) conditions.QueuedForSeconds = member;
    else if (member !== '' && member !== false && member !== 0) throw new UsageError(`parameter 'Conditions.${key}' in --cli-input-json has the wrong type.`);
  }
  return conditions;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
