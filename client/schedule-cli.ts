import type { ScheduleContactTransferRequest, ScheduleTime } from './index';
import { SCHEDULE_TIME_MEMBERS } from './index';
import {
  command,
  CONNECTION_OPTIONS,
  connectedClient,
  EXIT,
  HELP_FLAG,
  INPUT_SKELETON,
  noPositionals,
  printIdempotentResult,
  printSkeleton,
  REQUEST_OPTIONS,
  required,
  requestOf,
  UsageError,
} from './cli';
import { contactListing, PAGE_SIZE } from './list-cli';

/**
 * The scheduled-transfer commands (contract section 12), with the AWS CLI's conventions as transfer-contact and
 * list-contact-transfers have them: kebab-case flags, JSON on stdout, the error as JSON on stderr, the same exit codes.
 */

const SCHEDULE_ID_OPTIONS = { 'schedule-id': { type: 'string' }, ...CONNECTION_OPTIONS, ...HELP_FLAG } as const;
const SCHEDULE_OPTIONS = { ...REQUEST_OPTIONS, at: { type: 'string' }, 'after-seconds': { type: 'string' }, ...CONNECTION_OPTIONS, ...HELP_FLAG } as const;

const EXIT_CODES = `Exit codes as transfer-contact: 0 done, 1 other failure, 2 usage error, 3 rejected (4xx), 4 throttled (429),
5 server or network error.`;
const CONNECTION_HELP = '  --endpoint, --region, --profile, -h/--help: as for transfer-contact.';

export const SCHEDULE_HELP = `Usage: schedule-contact-transfer (--at <time> | --after-seconds <n>) --contact-id <id> --contact-flow-id <id>
                                 [every other option of transfer-contact]

Schedules a transfer (POST /contact/transfer/schedules): the gateway runs it later on EventBridge Scheduler,
usually with conditions, so "if this task still waits in Billing in 30 minutes, move it to Escalations"
survives anything that happens to the caller. InstanceId, ContactId and the members' form are checked now,
the rest when it fires.

When (exactly one):
  --at <time>                ISO-8601 UTC, e.g. 2026-12-05T17:30:00Z: 60 s to 30 days ahead.
  --after-seconds <n>        60 to 2592000 (30 days) from now.

Request: the flags of transfer-contact (--contact-id, --contact-flow-id, --queue-id, --user-id, --instance-id,
--client-token, --note, --in-queue, --not-with-agent, --queued-for-seconds), meaning the same. The conditions
are judged when it fires: a contact an agent took meanwhile is skipped, not transferred.
  --cli-input-json <json>    The request as JSON (At or AfterSeconds included), inline or file://path.
  --generate-cli-skeleton    Print a sample request ("output": a sample result) and exit.
${CONNECTION_HELP}

Idempotent as transfer-contact: the same command again (or with the same --client-token) names the same
schedule; the key used is printed on stderr. The time is not part of the key: a second schedule of the same
contact to the same target needs its own --client-token (else 409 CLIENT_TOKEN_REUSED). At most 10 schedules
wait per contact (409 SCHEDULE_LIMIT_REACHED).
Output: {"ScheduleId", "ContactId", "At", "State": "SCHEDULED", "replayed"} as JSON on stdout.
${EXIT_CODES}
`;

export const GET_SCHEDULE_HELP = `Usage: get-contact-transfer-schedule --schedule-id <id> [--endpoint <url>] [--region <region>] [--profile <name>]

Prints a scheduled transfer (GET /contact/transfer/schedules/{ScheduleId}): its State (SCHEDULED, CANCELLED or
FIRED), the request, and once it fired its Outcome (TRANSFERRED with the new contact, SKIPPED with the condition,
FAILED with the reason). An unknown id is 404 SCHEDULE_NOT_FOUND.
  --schedule-id <id>         Required. The ScheduleId schedule-contact-transfer printed.
${CONNECTION_HELP}
${EXIT_CODES}
`;

export const LIST_SCHEDULES_HELP = `Usage: list-contact-transfer-schedules --contact-id <id> [--max-items <n>] [--starting-token <token>] [--page-size <n>]
                                       [--endpoint <url>] [--region <region>] [--profile <name>]

Lists a contact's scheduled transfers, oldest first (GET /contact/transfer/schedules?ContactId=...), whatever
their state. A contact without schedules lists nothing. Pages as list-contact-transfers does:
  --contact-id <id>          Required.
  --max-items <n>            Print at most n schedules; when more remain, the output has a NextToken.
  --starting-token <token>   Resume from the NextToken a --max-items run printed.
  --page-size <n>            Schedules per request to the gateway (${PAGE_SIZE.min}-${PAGE_SIZE.max}); the output is the same.
${CONNECTION_HELP}
Output: {"Schedules": [...], "NextToken"?} as JSON on stdout.
${EXIT_CODES}
`;

export const CANCEL_SCHEDULE_HELP = `Usage: cancel-contact-transfer-schedule --schedule-id <id> [--endpoint <url>] [--region <region>] [--profile <name>]

Cancels a scheduled transfer (DELETE /contact/transfer/schedules/{ScheduleId}). Exit 0 means it will never
transfer; cancelling a cancelled schedule succeeds too, so a re-run is safe. One that already fired cannot be
cancelled (409 SCHEDULE_ALREADY_FIRED, exit 3: see its outcome with get-contact-transfer-schedule).
  --schedule-id <id>         Required.
${CONNECTION_HELP}
Output: nothing on stdout, as the AWS CLI's delete commands; one line on stderr.
${EXIT_CODES}
`;

const SCHEDULE_INPUT_SKELETON = { ...INPUT_SKELETON, At: '', AfterSeconds: 0 };
const SCHEDULE_OUTPUT_SKELETON = { ScheduleId: '', ContactId: '', At: '', State: 'SCHEDULED', replayed: false };

export const scheduleMain = command('schedule-contact-transfer', SCHEDULE_OPTIONS, SCHEDULE_HELP, async ({ values, positionals }, io) => {
  if (values['generate-cli-skeleton']) return printSkeleton(positionals, { input: SCHEDULE_INPUT_SKELETON, output: SCHEDULE_OUTPUT_SKELETON }, io);
  noPositionals(positionals);
  const { request, extra } = await requestOf(values, io, SCHEDULE_TIME_MEMBERS);
  const scheduled: ScheduleContactTransferRequest = { ...request, ...scheduleTimeOf(values, extra) };
  const result = await connectedClient(values, io).scheduleContactTransfer(scheduled);
  printIdempotentResult('schedule-contact-transfer', request, result, 'no second schedule', io);
  return EXIT.OK;
});

/**
 * --at or --after-seconds, else At or AfterSeconds of --cli-input-json (the skeleton's "" and 0 meaning "not
 * given"). The limits are the gateway's to check; what is neither a time nor a number is a usage error here.
 */
function scheduleTimeOf(values: { at?: string | undefined; 'after-seconds'?: string | undefined }, input: Record<string, unknown>): ScheduleTime {
  const at = values.at ?? (values['after-seconds'] === undefined ? input.At : undefined);
  const afterSeconds = values['after-seconds'] ?? (values.at === undefined ? input.AfterSeconds : undefined);
  const given = { at: at !== undefined && at !== '', afterSeconds: afterSeconds !== undefined && afterSeconds !== 0 };
  if (given.at === given.afterSeconds) throw new UsageError('give exactly one of --at <ISO-8601 UTC time> and --after-seconds <n> (or At / AfterSeconds in --cli-input-json).');
  if (given.at) {
    if (typeof at !== 'string') throw new UsageError("parameter 'At' in --cli-input-json must be a string.");
    return { At: at };
  }
  if (typeof afterSeconds === 'number' && Number.isInteger(afterSeconds)) return { AfterSeconds: afterSeconds };
  if (typeof afterSeconds === 'string' && /^\d+$/.test(afterSeconds)) return { AfterSeconds: Number(afterSeconds) };
  throw new UsageError(`--after-seconds needs a whole number of seconds, not '${String(afterSeconds)}'.`);
}

export const getScheduleMain = command('get-contact-transfer-schedule', SCHEDULE_ID_OPTIONS, GET_SCHEDULE_HELP, async ({ values, positionals }, io) => {
  noPositionals(positionals);
  const ScheduleId = required(values['schedule-id'], 'schedule-id');
  const schedule = await connectedClient(values, io).getContactTransferSchedule({ ScheduleId });
  io.stdout(`${JSON.stringify(schedule, null, 4)}\n`);
  return EXIT.OK;
});

export const listSchedulesMain = contactListing('list-contact-transfer-schedules', LIST_SCHEDULES_HELP, 'Schedules', (client, query) => client.listContactTransferSchedules(query));

export const cancelScheduleMain = command('cancel-contact-transfer-schedule', SCHEDULE_ID_OPTIONS, CANCEL_SCHEDULE_HELP, async ({ values, positionals }, io) => {
  noPositionals(positionals);
  const ScheduleId = required(values['schedule-id'], 'schedule-id');
  await connectedClient(values, io).cancelContactTransferSchedule({ ScheduleId });
  io.stderr(`cancel-contact-transfer-schedule: ${ScheduleId} is cancelled and will not transfer.\n`);
  return EXIT.OK;
});
