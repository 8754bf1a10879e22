import { command, CONNECTION_OPTIONS, connectedClient, EXIT, HELP_FLAG, noPositionals, required, UsageError } from './cli';
import type { CliIo } from './cli';
import type { TransferClient } from './index';

/**
 * `list-contact-transfers`: the transfer history of a contact's tree (`GET /contact/transfers/{ContactId}`) with the
 * AWS CLI's conventions for a List command: it pages through everything unless `--max-items` stops it, and then
 * prints a `NextToken` for `--starting-token` to resume from.
 */

/** The AWS CLI's pagination flags of a List command. */
export const PAGING_OPTIONS = {
  'max-items': { type: 'string' },
  'starting-token': { type: 'string' },
  'page-size': { type: 'string' },
} as const;

const OPTIONS = {
  'contact-id': { type: 'string' },
  ...PAGING_OPTIONS,
  ...CONNECTION_OPTIONS,
  ...HELP_FLAG,
} as const;

/** The gateway's MaxResults bounds (contract section 10). */
export const PAGE_SIZE = { min: 1, max: 100 } as const;

export const LIST_HELP = `Usage: list-contact-transfers --contact-id <id> [--max-items <n>] [--starting-token <token>] [--page-size <n>]
                              [--endpoint <url>] [--region <region>] [--profile <name>]

Lists the transfers recorded for the tree the contact belongs to (GET /contact/transfers/{ContactId}), oldest
first, whichever contact of the tree is named. Signed with SigV4 (execute-api) like transfer-contact.

  --contact-id <id>          Required. Any contact of the tree: the first, one in the middle, or the latest.
  --max-items <n>            Print at most n transfers; when more remain, the output has a NextToken.
  --starting-token <token>   Resume from the NextToken a --max-items run printed.
  --page-size <n>            Transfers per request to the gateway (${PAGE_SIZE.min}-${PAGE_SIZE.max}, default ${PAGE_SIZE.max}); the output is the same.
  --endpoint, --region, --profile, -h/--help: as for transfer-contact.

Output: {"Transfers": [{"TransferNumber", "FromContactId", "ToContactId", "ToContactArn", "ContactFlowId",
"QueueId" or "UserId", "RequestedBy", "Door", "TransferredAt"}, ...], "NextToken"?} as JSON on stdout.
Exit codes as transfer-contact: 0 listed (an unknown contact lists nothing), 2 usage, 3 rejected, 4 throttled,
5 server or network error, 1 other.
`;

/** Where a listing resumes: the gateway's token for the page, and how many of that page's items were printed. */
interface Resume {
  readonly NextToken?: string;
  readonly skip: number;
}

export const listMain = contactListing('list-contact-transfers', LIST_HELP, 'Transfers', (client, query) => client.listContactTransfers(query));

/**
 * A command that prints every item of a contact's paged listing under `key`, with the NextToken to resume from when
 * --max-items stopped it: list-contact-transfers and list-contact-transfer-schedules.
 */
export function contactListing<K extends string, T>(
  name: string,
  help: string,
  key: K,
  list: (client: TransferClient, query: { ContactId: string; MaxResults?: number; NextToken?: string }) => Promise<{ readonly [item in K]: readonly T[] } & { readonly NextToken?: string }>,
): (argv: readonly string[], io: CliIo) => Promise<number> {
  return command(name, OPTIONS, help, async ({ values, positionals }, io) => {
    noPositionals(positionals);
    const ContactId = required(values['contact-id'], 'contact-id');
    const paging = pagingOf(values);
    const client = connectedClient(values, io);
    const { items, NextToken } = await collectPages(paging, async (page) => {
      const listed = await list(client, { ContactId, ...page });
      return { items: listed[key], ...(listed.NextToken !== undefined && { NextToken: listed.NextToken }) };
    });
    io.stdout(`${JSON.stringify({ [key]: items, ...(NextToken && { NextToken }) }, null, 4)}\n`);
    return EXIT.OK;
  });
}

export interface Paging {
  readonly maxItems: number | undefined;
  readonly pageSize: number | undefined;
  readonly resume: Resume;
}

export function pagingOf(values: { 'max-items'?: string | undefined; 'starting-token'?: string | undefined; 'page-size'?: string | undefined }): Paging {
  return {
    maxItems: values['max-items'] === undefined ? undefined : wholeNumber('--max-items', values['max-items'], 1, Number.MAX_SAFE_INTEGER),
    pageSize: values['page-size'] === undefined ? undefined : wholeNumber('--page-size', values['page-size'], PAGE_SIZE.min, PAGE_SIZE.max),
    resume: values['starting-token'] === undefined ? { skip: 0 } : decodeResume(values['starting-token']),
  };
}

/**
 * Every item from the resume point on, page after page, until --max-items: then the NextToken to resume from,
 * which also remembers how much of the gateway's page was printed.
 */
export async function collectPages<T>(
  paging: Paging,
  list: (page: { MaxResults?: number; NextToken?: string }) => Promise<{ items: readonly T[]; NextToken?: string }>,
): Promise<{ items: T[]; NextToken?: string }> {
  const { maxItems, pageSize } = paging;
  let resume = paging.resume;
  const items: T[] = [];
  let stoppedAt: Resume | undefined;
  for (;;) {
    const page = await list({ ...(pageSize !== undefined && { MaxResults: pageSize }), ...(resume.NextToken !== undefined && { NextToken: resume.NextToken }) });
    const unseen = page.items.slice(resume.skip);
    const room = maxItems === undefined ? unseen.length : maxItems - items.length;
    items.push(...unseen.slice(0, room));
    if (room < unseen.length) {
      stoppedAt = { ...(resume.NextToken !== undefined && { NextToken: resume.NextToken }), skip: resume.skip + room };
      break;
    }
    if (page.NextToken === undefined) break;
    resume = { NextToken: page.NextToken, skip: 0 };
    if (maxItems !== undefined && items.length >= maxItems) {
      stoppedAt = resume;
      break;
    }
  }
  return { items, ...(stoppedAt && { NextToken: encodeResume(stoppedAt) }) };
}

function wholeNumber(option: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${option} must be a whole number from ${min} to ${max === Number.MAX_SAFE_INTEGER ? 'up' : max}, not '${text}'.`);
  }
  return value;
}

/** Opaque to the user, as the AWS CLI's own pagination tokens are. */
function encodeResume(resume: Resume): string {
  return Buffer.from(JSON.stringify(resume), 'utf8').toString('base64url');
}

function decodeResume(token: string): Resume {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (typeof parsed === 'object' && parsed !== null) {
      const { NextToken, skip } = parsed as Record<string, unknown>;
      if ((NextToken === undefined || typeof NextToken === 'string') && Number.isSafeInteger(skip) && (skip as number) >= 0) {
        return { ...(NextToken !== undefined && { NextToken }), skip: skip as number };
      }
    }
  } catch {
    // Reported below, as any other token this command did not print.
  }
  throw new UsageError('--starting-token is not a NextToken this command printed.');
}
