import { describe, expect, it } from 'vitest';
import { EXIT } from '../../client/cli';
import type { CliIo } from '../../client/cli';
import { cancelScheduleMain, getScheduleMain, listSchedulesMain, scheduleMain } from '../../client/schedule-cli';
import { contractError, CREATED, sampleSchedule, SCHEDULE_ID, STAGE, useFakeGateway } from './fake-gateway';

/** The four schedule commands against a fake gateway: what they send, print and exit with (contract section 12). */
const created = CREATED;
const schedule = (ScheduleId: string) => sampleSchedule({ ScheduleId });
const gateway = useFakeGateway();

type Command = (argv: readonly string[], io: CliIo) => Promise<number>;

async function run(command: Command, args: readonly string[]) {
  let stdout = '';
  let stderr = '';
  const code = await command(args, {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    env: { TRANSFER_GATEWAY_ENDPOINT: gateway.url, AWS_MAX_ATTEMPTS: '2' },
  });
  return { code, stdout, stderr, json: () => JSON.parse(stdout) as Record<string, unknown>, error: () => JSON.parse(stderr) as Record<string, unknown> };
}

const sentBody = () => JSON.parse(gateway.requests.at(-1)!.body) as Record<string, unknown>;
const transfer = ['--contact-id', 'c-1', '--contact-flow-id', 'f-1', '--queue-id', 'q-escalations'];

describe('schedule-contact-transfer', () => {
  it('schedules with --at and the transfer flags, printing the schedule on stdout and the idempotency key on stderr', async () => {
    gateway.answer({ status: 201, body: created });
    const result = await run(scheduleMain, [...transfer, '--at', created.At, '--in-queue', 'q-billing', '--not-with-agent', '--note', 'waited 30 min']);
    expect(result.code).toBe(EXIT.OK);
    expect(result.json()).toEqual({ ...created, replayed: false });
    expect(result.stderr).toBe('schedule-contact-transfer: idempotency key: payload (ContactId, ContactFlowId, QueueId, UserId, Note, Conditions)\n');
    expect(gateway.requests[0]).toMatchObject({ method: 'POST', path: `${STAGE}/contact/transfer/schedules` });
    expect(sentBody()).toEqual({
      ContactId: 'c-1',
      ContactFlowId: 'f-1',
      QueueId: 'q-escalations',
      Note: 'waited 30 min',
      Conditions: { InQueue: 'q-billing', NotWithAgent: true },
      At: created.At,
    });
  });

  it('sends --after-seconds as a number, and says when the answer is a replay', async () => {
    gateway.answer({ status: 201, body: created, headers: { 'Idempotent-Replayed': 'true' } });
    const result = await run(scheduleMain, [...transfer, '--after-seconds', '1800', '--client-token', 'esc-c-1']);
    expect(result.code).toBe(EXIT.OK);
    expect(sentBody()).toMatchObject({ AfterSeconds: 1800, ClientToken: 'esc-c-1' });
    expect(result.stderr).toBe('schedule-contact-transfer: idempotency key: ClientToken esc-c-1 (replayed: no second schedule)\n');
  });

  it('takes At or AfterSeconds from --cli-input-json, the skeleton placeholder meaning "not given", and a time flag wins', async () => {
    gateway.answer({ status: 201, body: created });
    const input = { ContactId: 'c-1', ContactFlowId: 'f-1', At: '', AfterSeconds: 900 };
    expect((await run(scheduleMain, ['--cli-input-json', JSON.stringify(input)])).code).toBe(EXIT.OK);
    expect(sentBody()).toEqual({ ContactId: 'c-1', ContactFlowId: 'f-1', AfterSeconds: 900 });
    expect((await run(scheduleMain, ['--cli-input-json', JSON.stringify(input), '--at', created.At])).code).toBe(EXIT.OK);
    expect(sentBody()).toEqual({ ContactId: 'c-1', ContactFlowId: 'f-1', At: created.At });
  });

  it.each([
    ['neither time', [...transfer], /exactly one of --at/],
    ['both times', [...transfer, '--at', created.At, '--after-seconds', '600'], /exactly one of --at/],
    ['a time that is no number', [...transfer, '--after-seconds', '30m'], /--after-seconds needs a whole number of seconds, not '30m'/],
    ['no contact', ['--contact-flow-id', 'f-1', '--after-seconds', '600'], /missing required --contact-id/],
    ['a misspelt member', ['--cli-input-json', '{"ContactId":"c-1","ContactFlowId":"f-1","AfterSecs":600}'], /unknown parameter 'AfterSecs'.*At, AfterSeconds/],
  ])('refuses %s as a usage error (exit 2) and sends nothing', async (_case, args, message) => {
    const result = await run(scheduleMain, args);
    expect(result.code).toBe(EXIT.USAGE);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
    expect(gateway.requests).toEqual([]);
  });

  it("prints the gateway's 400 for a time out of range as JSON on stderr, exit 3", async () => {
    gateway.answer(contractError(400, 'InvalidRequestException', 'VALIDATION_FAILED', { Fields: [{ Field: 'AfterSeconds', Message: 'at least 60' }] }));
    const result = await run(scheduleMain, [...transfer, '--after-seconds', '59']);
    expect(result.code).toBe(EXIT.CLIENT_ERROR);
    expect(result.error()).toMatchObject({ ReasonCode: 'VALIDATION_FAILED', Status: 400, Fields: [{ Field: 'AfterSeconds' }], IdempotencyKey: expect.stringContaining('payload') as unknown });
  });

  it('exits 3 with SCHEDULE_LIMIT_REACHED, and 5 when the gateway keeps failing', async () => {
    gateway.answer(contractError(409, 'ResourceConflictException', 'SCHEDULE_LIMIT_REACHED'));
    const limited = await run(scheduleMain, [...transfer, '--after-seconds', '600']);
    expect(limited.code).toBe(EXIT.CLIENT_ERROR);
    expect(limited.error()).toMatchObject({ Type: 'ResourceConflictException', ReasonCode: 'SCHEDULE_LIMIT_REACHED', Retryable: false });
    gateway.answer({ status: 502 });
    expect((await run(scheduleMain, [...transfer, '--after-seconds', '600'])).code).toBe(EXIT.SERVER_ERROR);
  });

  it('prints a skeleton with At and AfterSeconds to fill in', async () => {
    const result = await run(scheduleMain, ['--generate-cli-skeleton']);
    expect(result.json()).toMatchObject({ ContactId: '', ContactFlowId: '', At: '', AfterSeconds: 0 });
    expect((await run(scheduleMain, ['--generate-cli-skeleton', 'output'])).json()).toEqual({ ScheduleId: '', ContactId: '', At: '', State: 'SCHEDULED', replayed: false });
  });
});

describe('get-contact-transfer-schedule', () => {
  it('prints the schedule as JSON', async () => {
    gateway.answer({ status: 200, body: schedule(SCHEDULE_ID) });
    const result = await run(getScheduleMain, ['--schedule-id', SCHEDULE_ID]);
    expect(result.code).toBe(EXIT.OK);
    expect(result.json()).toEqual(schedule(SCHEDULE_ID));
    expect(gateway.requests[0]).toMatchObject({ method: 'GET', path: `${STAGE}/contact/transfer/schedules/${SCHEDULE_ID}` });
  });

  it('exits 3 with SCHEDULE_NOT_FOUND on stderr, and 2 without --schedule-id', async () => {
    gateway.answer(contractError(404, 'ResourceNotFoundException', 'SCHEDULE_NOT_FOUND'));
    const missing = await run(getScheduleMain, ['--schedule-id', 'sch-unknown']);
    expect(missing.code).toBe(EXIT.CLIENT_ERROR);
    expect(missing.error()).toMatchObject({ ReasonCode: 'SCHEDULE_NOT_FOUND', Status: 404 });
    expect(missing.error()).not.toHaveProperty('IdempotencyKey');
    const usage = await run(getScheduleMain, []);
    expect(usage.code).toBe(EXIT.USAGE);
    expect(usage.stderr).toContain('missing required --schedule-id');
  });
});

describe('list-contact-transfer-schedules', () => {
  const pages = () => [
    { status: 200, body: { Schedules: [schedule('sch-1'), schedule('sch-2')], NextToken: 'p2' } },
    { status: 200, body: { Schedules: [schedule('sch-3')] } },
  ];
  const ids = (output: Record<string, unknown>) => (output.Schedules as { ScheduleId: string }[]).map((item) => item.ScheduleId);

  it('prints every page of the contact\'s schedules', async () => {
    gateway.answer(...pages());
    const result = await run(listSchedulesMain, ['--contact-id', 'c-1', '--page-size', '2']);
    expect(result.code).toBe(EXIT.OK);
    expect(result.json()).toEqual({ Schedules: [schedule('sch-1'), schedule('sch-2'), schedule('sch-3')] });
    expect(gateway.requests.map((sent) => Object.fromEntries(sent.query))).toEqual([
      { ContactId: 'c-1', MaxResults: '2' },
      { ContactId: 'c-1', MaxResults: '2', NextToken: 'p2' },
    ]);
  });

  it('stops at --max-items with a NextToken that --starting-token resumes from', async () => {
    gateway.answer(...pages());
    const first = await run(listSchedulesMain, ['--contact-id', 'c-1', '--max-items', '1']);
    expect(ids(first.json())).toEqual(['sch-1']);
    gateway.answer(...pages());
    const rest = await run(listSchedulesMain, ['--contact-id', 'c-1', '--starting-token', String(first.json().NextToken)]);
    expect(ids(rest.json())).toEqual(['sch-2', 'sch-3']);
    expect(rest.json().NextToken).toBeUndefined();
  });

  it('refuses a missing --contact-id and a page size over 100 before sending anything', async () => {
    expect((await run(listSchedulesMain, [])).code).toBe(EXIT.USAGE);
    expect((await run(listSchedulesMain, ['--contact-id', 'c-1', '--page-size', '101'])).code).toBe(EXIT.USAGE);
    expect(gateway.requests).toEqual([]);
  });
});

describe('cancel-contact-transfer-schedule', () => {
  it('cancels with DELETE, printing nothing on stdout as the AWS CLI delete commands, exit 0', async () => {
    gateway.answer({ status: 204 });
    const result = await run(cancelScheduleMain, ['--schedule-id', SCHEDULE_ID]);
    expect(result).toMatchObject({ code: EXIT.OK, stdout: '' });
    expect(result.stderr).toContain(`${SCHEDULE_ID} is cancelled and will not transfer`);
    expect(gateway.requests[0]).toMatchObject({ method: 'DELETE', path: `${STAGE}/contact/transfer/schedules/${SCHEDULE_ID}` });
  });

  it('exits 3 with SCHEDULE_ALREADY_FIRED', async () => {
    gateway.answer(contractError(409, 'ResourceConflictException', 'SCHEDULE_ALREADY_FIRED'));
    const result = await run(cancelScheduleMain, ['--schedule-id', SCHEDULE_ID]);
    expect(result.code).toBe(EXIT.CLIENT_ERROR);
    expect(result.error()).toMatchObject({ ReasonCode: 'SCHEDULE_ALREADY_FIRED', Status: 409 });
    expect(result.stderr).not.toContain('will not transfer');
  });
});

describe('help', () => {
  it.each([
    [scheduleMain, ['--at <time>', '--after-seconds <n>', 'SCHEDULE_LIMIT_REACHED']],
    [getScheduleMain, ['--schedule-id <id>', 'SCHEDULE_NOT_FOUND']],
    [listSchedulesMain, ['--contact-id <id>', '--max-items <n>', '--starting-token <token>']],
    [cancelScheduleMain, ['--schedule-id <id>', 'SCHEDULE_ALREADY_FIRED']],
  ] as const)('%#: --help names the options and the answers to expect, exit 0, nothing sent', async (command, mentions) => {
    const result = await run(command, ['--help']);
    expect(result.code).toBe(EXIT.OK);
    for (const mention of mentions) expect(result.stdout).toContain(mention);
    expect(gateway.requests).toEqual([]);
  });
});
