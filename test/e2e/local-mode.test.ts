import { exec, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSeed } from '../../simulator/seed';

/** `npm start` as a user runs it: a child process on a free port, driven over HTTP, then stopped with Ctrl-C. */
const root = join(__dirname, '..', '..');
const seed = loadSeed();
const flow = seed.flows.find((candidate) => candidate.Type === 'QUEUE_TRANSFER' && candidate.Status === 'PUBLISHED' && candidate.State === 'ACTIVE')!;
const queue = seed.queues.find((candidate) => candidate.Status === 'ENABLED')!;
const [first, second] = seed.contacts.filter((contact) => contact.Channel === 'TASK' && !contact.DisconnectTimestamp);

let child: ChildProcess;
let url: string;
let output = '';

beforeAll(async () => {
  child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts'], {
    cwd: root,
    // INFO: the one line per request, which the log test below reads.
    env: { ...process.env, PORT: '0', POWERTOOLS_LOG_LEVEL: 'INFO' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`local mode did not start:\n${output}`)), 20_000);
    const read = (chunk: Buffer): void => {
      output += chunk.toString();
      const served = /POST (http:\/\/127\.0\.0\.1:\d+)\/contact\/transfer/.exec(output);
      if (served?.[1]) {
        clearTimeout(timer);
        resolve(served[1]);
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.once('exit', (code) => reject(new Error(`local mode exited with ${String(code)}:\n${output}`)));
  });
});

afterAll(() => {
  if (child.exitCode === null) child.kill('SIGKILL');
});

const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
  const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
};

interface Published {
  readonly 'detail-type': string;
  readonly detail: Record<string, unknown>;
}

/** The first event published that matches, as `GET /events/published` lists them (waits for the buffer to drain). */
async function publishedEvent(matches: (event: Published) => boolean): Promise<Published | undefined> {
  for (let waited = 0; waited < 10_000; waited += 100) {
    const { Events } = (await (await fetch(`${url}/events/published`)).json()) as { Events: Published[] };
    const found = Events.find(matches);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return undefined;
}

describe('npm start', () => {
  it('prints what it serves and example requests', () => {
    expect(output).toContain('/events');
    expect(output).toContain(`"ContactId":"${first?.Id}"`);
    expect(output).toContain('curl');
    expect(output).toMatch(/Tables: +contact-transfer-idempotency \(idempotency\), contact-transfer-ledger \(ledger\)/);
    expect(output).toContain('/openapi.json');
  });

  it('transfers a demo contact, replays it, and rejects an invalid one', async () => {
    const request = { ContactId: first?.Id, ContactFlowId: flow.Id, QueueId: queue.Id };
    const transferred = await post('/contact/transfer', request, { 'Idempotency-Key': 'e2e-1' });
    expect(transferred.status).toBe(200);
    expect(transferred.body.ContactId).not.toBe(first?.Id);

    const replayed = await post('/contact/transfer', request, { 'Idempotency-Key': 'e2e-1' });
    expect(replayed.body).toEqual(transferred.body);
    expect(replayed.headers.get('Idempotent-Replayed')).toBe('true');

    const rejected = await post('/contact/transfer', { ...request, Idempotency: 'typo' });
    expect(rejected.status).toBe(400);
    expect(rejected.headers.get('x-amzn-ErrorType')).toBe('InvalidRequestException');
    expect(rejected.body.ReasonCode).toBe('VALIDATION_FAILED');

    // The history, named by either contact of the tree, as the banner shows how to read it.
    expect(output).toContain(`curl -s ${url}/contact/transfers/${first?.Id}`);
    for (const contactId of [first?.Id, transferred.body.ContactId]) {
      const history = await fetch(`${url}/contact/transfers/${String(contactId)}`);
      expect(history.status).toBe(200);
      expect(await history.json()).toMatchObject({ Transfers: [{ TransferNumber: 1, FromContactId: first?.Id, ToContactId: transferred.body.ContactId, Door: 'https' }] });
    }
    const malformed = await fetch(`${url}/contact/transfers/x?MaxResults=1000`);
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ ReasonCode: 'VALIDATION_FAILED', Fields: [{ Field: 'MaxResults' }] });
  });

  it('delivers a PutEvents entry that matches the rule, and ignores one that does not', async () => {
    const detail = JSON.stringify({ ContactId: second?.Id, ContactFlowId: flow.Id, QueueId: queue.Id });
    const answer = await post('/events', {
      Entries: [
        { Source: 'internal.contact-transfer', DetailType: 'TransferContact', Detail: detail },
        { Source: 'someone.else', DetailType: 'TransferContact', Detail: detail },
      ],
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      FailedEntryCount: 0,
      Entries: [{ Delivery: { Matched: true, Buffered: true } }, { Delivery: { Matched: false } }],
    });
    // The buffer drains at the gateway's pace; the outcome is a published event, listed and printed.
    expect(await publishedEvent((event) => event.detail.FromContactId === second?.Id)).toMatchObject({
      'detail-type': 'Contact Transferred',
      detail: { Door: 'eventbridge', QueueId: queue.Id },
    });
    expect(output).toContain(`published Contact Transferred: {"TreeId":"${second?.Id}"`);
  });

  it('prints a burst that works as printed', async () => {
    const command = /^ {2}(curl -s -X POST \S+\/events .*)$/gm;
    const burst = [...output.matchAll(command)].map((match) => match[1]).find((line) => line?.includes('burst-'));
    expect(burst).toBeDefined();
    const { stdout } = await promisify(exec)(burst ?? '', { cwd: root });
    expect(JSON.parse(stdout)).toMatchObject({ FailedEntryCount: 0 });
  });

  it('prints scheduled-transfer examples that work as printed: one scheduled a minute ahead, read, listed; one cancelled', async () => {
    const lines = output.split('\n').map((line) => line.trim());
    const examples = lines.slice(lines.findIndex((line) => line.startsWith('# a scheduled transfer'))).filter((line) => line.startsWith('curl')).slice(0, 5);
    expect(examples).toHaveLength(5);
    const run = async (command: string) => (await promisify(exec)(command, { cwd: root })).stdout;
    const [create, read, list, createOther, cancel] = examples as [string, string, string, string, string];
    const created = JSON.parse(await run(create)) as { ScheduleId: string; At: string; State: string };
    expect(created).toMatchObject({ State: 'SCHEDULED' });
    expect(Date.parse(created.At) - Date.now()).toBeGreaterThan(50_000);
    expect(JSON.parse(await run(read))).toMatchObject({ ScheduleId: created.ScheduleId, State: 'SCHEDULED', Request: { Conditions: { NotWithAgent: true } } });
    expect(JSON.parse(await run(list))).toMatchObject({ Schedules: [{ ScheduleId: created.ScheduleId }] });
    const other = JSON.parse(await run(createOther)) as { ScheduleId: string };
    expect(await run(cancel)).toMatch(/^HTTP\/1\.1 204/);
    expect((await (await fetch(`${url}/contact/transfer/schedules/${other.ScheduleId}`)).json()) as unknown).toMatchObject({ State: 'CANCELLED' });
  });

  it('two Idempotency-Key headers with different values are a 400 naming the header, not one joined token', async () => {
    const answer = await new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
      const outgoing = httpRequest(`${url}/contact/transfer`, { method: 'POST' }, (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
      });
      outgoing.on('error', reject);
      outgoing.setHeader('Content-Type', 'application/json');
      // Two header lines, as a client that set the header twice sends them.
      outgoing.setHeader('Idempotency-Key', ['key-a', 'key-b']);
      outgoing.end(JSON.stringify({ ContactId: 'c-1', ContactFlowId: flow.Id }));
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ ReasonCode: 'VALIDATION_FAILED', Fields: [expect.objectContaining({ Field: 'Idempotency-Key' })] });
  });

  it('a malformed PutEvents entry is that entry\'s error, beside a good one', async () => {
    const detail = JSON.stringify({ ContactId: 'unknown-contact', ContactFlowId: flow.Id });
    const answer = await post('/events', {
      Entries: [null, 7, 'entry', [], {}, { Source: 'internal.contact-transfer', DetailType: 'TransferContact', Detail: detail }],
    });
    expect(answer.status).toBe(200);
    expect(answer.body.FailedEntryCount).toBe(5);
    const entries = answer.body.Entries as Record<string, unknown>[];
    for (const entry of entries.slice(0, 5)) expect(entry).toMatchObject({ ErrorCode: 'InvalidArgument', ErrorMessage: expect.any(String) as unknown });
    expect(entries[5]).toMatchObject({ Delivery: { Matched: true, Buffered: true } });
    // Its outcome is published once the buffer delivers it.
    expect(await publishedEvent((event) => event.detail.EventId === entries[5]?.EventId)).toMatchObject({
      'detail-type': 'Contact Transfer Failed',
      detail: { Outcome: 'REJECTED', ReasonCode: 'CONTACT_NOT_FOUND', Type: 'ResourceNotFoundException' },
    });
  });

  it('under concurrent requests every log line carries its own request\'s correlation id', async () => {
    const tag = Date.now().toString(36);
    const answers = await Promise.all(
      Array.from({ length: 20 }, async (_, index) => {
        const response = await fetch(`${url}/contact/transfer`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ ContactId: `missing-${tag}-${index}`, ContactFlowId: flow.Id }),
        });
        expect(response.status).toBe(404);
        return { contactId: `missing-${tag}-${index}`, requestId: response.headers.get('x-amzn-RequestId') };
      }),
    );
    const logLines = async (): Promise<Record<string, unknown>[]> => {
      for (let attempt = 0; attempt < 50; attempt++) {
        const lines = output
          .split('\n')
          .filter((line) => line.startsWith('{') && line.includes(`missing-${tag}-`))
          .map((line) => JSON.parse(line) as Record<string, unknown>);
        if (lines.length >= answers.length) return lines;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`not every request was logged:\n${output.slice(-2000)}`);
    };
    const lines = await logLines();
    expect(lines).toHaveLength(20);
    const mislabelled = lines.filter((line) => line.correlationId !== answers.find((answer) => answer.contactId === line.contactId)?.requestId);
    expect(mislabelled).toEqual([]);
  });

  it('prints a transfer-contact command that works as printed, and the history command works as the README writes it, with no Region and no credentials', async () => {
    const command = /^ {2}(npm run -s transfer-contact -- .*)$/m.exec(output)?.[1];
    expect(command).toBeDefined();
    // A shell with no AWS configuration at all, as a new developer's may be.
    const unconfigured = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')));
    const shell = { cwd: root, env: unconfigured };
    const { stdout } = await promisify(exec)(command ?? '', shell);
    const transferred = JSON.parse(stdout) as { ContactId: string };
    expect(transferred).toMatchObject({ replayed: false, ContactArn: expect.stringContaining('/contact/') as unknown });

    const history = await promisify(exec)(`npm run -s list-contact-transfers -- --endpoint ${url} --contact-id ${transferred.ContactId}`, shell);
    expect(JSON.parse(history.stdout)).toMatchObject({ Transfers: [expect.objectContaining({ TransferNumber: 1, ToContactId: transferred.ContactId })] });
    // Two commands, each starting npm and tsx: twice the one command's time.
  }, 60_000);

  it('stops cleanly on Ctrl-C', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    await expect(fetch(`${url}/contact/transfer`, { method: 'POST' })).rejects.toThrow();
  });
});
