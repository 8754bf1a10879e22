import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../client/cli';
import { createTransferClient, TransferContactError } from '../../client/index';
import type { ContactTransfer, TransferClient } from '../../client/index';
import { LIST_HELP, listMain } from '../../client/list-cli';
import { startLocalGateway } from '../../local/local-gateway';
import type { LocalGateway } from '../../local/local-gateway';
import { connectFixtures } from '../support/fixtures';

/** The history through the client and the list-contact-transfers command, against local mode (contract section 10). */
const credentials = { accessKeyId: 'AKIDHISTORYTEST', secretAccessKey: 'history-test-secret' };

let local: LocalGateway;
let client: TransferClient;
let tree: string[];

beforeAll(async () => {
  local = await startLocalGateway({ port: 0 });
  const fx = connectFixtures(local.connect!);
  client = createTransferClient({ endpoint: local.url, region: 'eu-west-2', credentials, baseDelayMs: 1 });
  tree = [fx.contact()];
  for (let n = 0; n < 5; n += 1) {
    const { ContactId } = await client.transferContact({ ContactId: tree.at(-1)!, ContactFlowId: fx.flows.inbound, QueueId: fx.queues.enabled });
    tree.push(ContactId);
  }
});
afterAll(() => local?.close());

const numbers = (transfers: readonly ContactTransfer[]) => transfers.map((transfer) => transfer.TransferNumber);

describe('client.listContactTransfers', () => {
  it('lists the tree of any of its contacts, oldest first', async () => {
    for (const contactId of [tree[0]!, tree[3]!, tree[5]!]) {
      const page = await client.listContactTransfers({ ContactId: contactId });
      expect(numbers(page.Transfers)).toEqual([1, 2, 3, 4, 5]);
      expect(page.Transfers[0]).toMatchObject({ FromContactId: tree[0], ToContactId: tree[1], Door: 'https' });
      expect(page.NextToken).toBeUndefined();
    }
  });

  it('pages with MaxResults and NextToken, and paginateContactTransfers follows every page', async () => {
    const first = await client.listContactTransfers({ ContactId: tree[2]!, MaxResults: 2 });
    expect(numbers(first.Transfers)).toEqual([1, 2]);
    const second = await client.listContactTransfers({ ContactId: tree[2]!, MaxResults: 2, NextToken: first.NextToken! });
    expect(numbers(second.Transfers)).toEqual([3, 4]);

    const pages: number[][] = [];
    for await (const page of client.paginateContactTransfers({ ContactId: tree[4]!, MaxResults: 2 })) pages.push(numbers(page.Transfers));
    expect(pages).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('gives an empty list for a contact the ledger has never seen', async () => {
    expect(await client.listContactTransfers({ ContactId: 'never-seen' })).toEqual({ Transfers: [] });
  });

  it('rejects a malformed query with a typed error that names the field and no idempotency key', async () => {
    const error = await client.listContactTransfers({ ContactId: tree[0]!, MaxResults: 500 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TransferContactError);
    expect(error).toMatchObject({ status: 400, reason: 'VALIDATION_FAILED', fields: [{ Field: 'MaxResults' }], retryable: false, attempts: 1 });
    const json = (error as TransferContactError).toJSON();
    expect(json).not.toHaveProperty('IdempotencyKey');
    expect(json).not.toHaveProperty('ClientToken');
  });
});

async function list(args: readonly string[]) {
  let stdout = '';
  let stderr = '';
  const code = await listMain(args, {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    env: { AWS_REGION: 'eu-west-2', TRANSFER_GATEWAY_ENDPOINT: local.url },
    credentials,
  });
  return { code, stdout, stderr, json: () => JSON.parse(stdout) as { Transfers: ContactTransfer[]; NextToken?: string } };
}

describe('list-contact-transfers', () => {
  it('prints the whole history, whatever --page-size, as the AWS CLI pages through a List command', async () => {
    for (const pageSize of ['100', '2', '1']) {
      const run = await list(['--contact-id', tree[1]!, '--page-size', pageSize]);
      expect(run.code).toBe(EXIT.OK);
      expect(numbers(run.json().Transfers)).toEqual([1, 2, 3, 4, 5]);
      expect(run.json().NextToken).toBeUndefined();
    }
  });

  it('stops at --max-items with a NextToken that --starting-token resumes from, also inside a page', async () => {
    for (const pageSize of ['2', '100']) {
      const seen: number[] = [];
      let token: string | undefined;
      for (let runs = 0; runs < 5; runs += 1) {
        const run = await list(['--contact-id', tree[0]!, '--max-items', '2', '--page-size', pageSize, ...(token ? ['--starting-token', token] : [])]);
        expect(run.code).toBe(EXIT.OK);
        seen.push(...numbers(run.json().Transfers));
        token = run.json().NextToken;
        if (token === undefined) break;
      }
      expect(seen, `page size ${pageSize}`).toEqual([1, 2, 3, 4, 5]);
    }
  });

  it.each([
    [[], /missing required --contact-id/],
    [['--contact-id', 'c', '--max-items', '0'], /--max-items must be a whole number/],
    [['--contact-id', 'c', '--page-size', '101'], /--page-size must be a whole number from 1 to 100/],
    [['--contact-id', 'c', '--starting-token', 'garbage'], /--starting-token is not a NextToken this command printed/],
    [['--contact-id', 'c', '--max-item', '2'], /unknown option '--max-item'; did you mean '--max-items'\?/],
  ])('%j is a usage error (exit 2) that says what to fix', async (args, message) => {
    const run = await list(args);
    expect(run.code).toBe(EXIT.USAGE);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain("Run 'list-contact-transfers --help'");
  });

  it('exits 3 with the gateway\'s error as JSON when the gateway rejects the query', async () => {
    const run = await list(['--contact-id', 'c'.repeat(300)]);
    expect(run.code).toBe(EXIT.CLIENT_ERROR);
    expect(JSON.parse(run.stderr)).toMatchObject({ Type: 'InvalidRequestException', ReasonCode: 'VALIDATION_FAILED', Status: 400 });
  });

  it('explains itself', async () => {
    const run = await list(['--help']);
    expect(run.code).toBe(EXIT.OK);
    expect(run.stdout).toBe(LIST_HELP);
  });
});
