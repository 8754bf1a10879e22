/**
 * `npm start`: the gateway on http://127.0.0.1:3000 (PORT overrides), offline, with no AWS account.
 * Usage: npm start [-- --seed <file>]
 */
import './process-defaults';
import { parseArgs } from 'node:util';
import { idempotencyKeysOf } from '../lambda/domain/idempotency-keys';
import { scheduleIdOf } from '../lambda/domain/schedule';
import { DEMO_SEED_PATH, loadSeed } from '../simulator/seed';
import type { Seed } from '../simulator/seed';
import { startLocalGateway } from './local-gateway';
import type { LocalGateway } from './local-gateway';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seed: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) {
    console.log('Usage: npm start [-- --seed <file>]\n  PORT=<port>  listen elsewhere than 3000\n  AWS_ENDPOINT_URL_CONNECT / AWS_ENDPOINT_URL_DYNAMODB  use these instead of the embedded services');
    return;
  }
  const seedPath = values.seed ?? DEMO_SEED_PATH;
  const seed = loadSeed(seedPath);
  const port = process.env.PORT === undefined ? 3000 : Number(process.env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got "${process.env.PORT}"`);

  const gateway = await startLocalGateway({
    port,
    seed,
    // What a consumer of the default bus would receive: one line per event, as the deployed pipes publish them.
    onPublished: (event) => console.log(`published ${event['detail-type']}: ${JSON.stringify(event.detail)}`),
    onSwept: (report) => console.log(`swept pending intents: ${JSON.stringify(report)}`),
  });
  console.log(banner(gateway, seed, seedPath));

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    gateway.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** What it serves, and requests that work against the seed it was given. */
function banner(gateway: LocalGateway, seed: Seed, seedPath: string): string {
  const active = seed.contacts.filter((contact) => ['TASK', 'EMAIL'].includes(contact.Channel) && !contact.DisconnectTimestamp);
  const ended = seed.contacts.find((contact) => contact.DisconnectTimestamp);
  const flow = seed.flows.find((candidate) => candidate.Type === 'QUEUE_TRANSFER' && candidate.State === 'ACTIVE' && candidate.Status === 'PUBLISHED')
    ?? seed.flows.find((candidate) => candidate.Type === 'CONTACT_FLOW' && candidate.State === 'ACTIVE' && candidate.Status === 'PUBLISHED');
  const queue = seed.queues.find((candidate) => candidate.Status === 'ENABLED');
  const lines = [
    'Contact transfer gateway, local mode',
    `  POST ${gateway.url}/contact/transfer   the HTTPS door (API Gateway proxy event)`,
    `  GET  ${gateway.url}/contact/transfers/{ContactId}   the transfer history of that contact's tree`,
    `  POST/GET ${gateway.url}/contact/transfer/schedules, GET/DELETE .../schedules/{ScheduleId}   scheduled transfers, fired by a local EventBridge Scheduler`,
    `  POST ${gateway.url}/events             PutEvents-style entries for the EventBridge rule, buffered and drained at 2 transfers/s`,
    `  GET  ${gateway.url}/events/published   the Contact Transferred / Failed / Skipped events published so far (also printed here)`,
    `  Connect:  ${gateway.connect ? `embedded simulator at ${gateway.connectEndpoint}, seeded from ${seedPath}` : gateway.connectEndpoint}`,
    `  DynamoDB: ${gateway.dynamodb ? `embedded dynalite at ${gateway.dynamodbEndpoint}` : gateway.dynamodbEndpoint}`,
    `  Tables:   ${gateway.tables.idempotency} (idempotency), ${gateway.tables.ledger} (ledger)`,
    `  GET  ${gateway.url}/health, ${gateway.url}/openapi.json (the API's OpenAPI description)`,
    `  Instance: ${gateway.instanceArn}`,
  ];
  const [first, second, third] = active;
  // Kept for the conditional example, out of the others' way: the last task waiting in a queue with no agent.
  const queued = active.slice(3).findLast((contact) => contact.QueueId && !contact.AgentId && !contact.LastPausedTimestamp);
  if (gateway.connect && first && second && flow && queue) {
    const transfer = JSON.stringify({ ContactId: first.Id, ContactFlowId: flow.Id, QueueId: queue.Id });
    const curl = (body: string, extra = ''): string => `  curl -s -X POST ${gateway.url}/contact/transfer -H 'Content-Type: application/json'${extra} -d '${body}'`;
    lines.push(
      '',
      'Try (each works once against a fresh demo seed: a transferred contact has ended):',
      '# transfer a task to a queue',
      curl(transfer, " -H 'Idempotency-Key: demo-1'"),
      '# the same request again: the same answer, header Idempotent-Replayed: true, no second transfer',
      curl(transfer, " -i -H 'Idempotency-Key: demo-1'"),
    );
    lines.push('# the history of that contact\'s tree (any contact of it: the first, or the one the transfer made)', `  curl -s ${gateway.url}/contact/transfers/${first.Id}`);
    if (ended) lines.push('# a rejected transfer: the contact has ended', curl(JSON.stringify({ ContactId: ended.Id, ContactFlowId: flow.Id, QueueId: queue.Id })));
    const agent = seed.users[0];
    if (queued?.QueueId && agent) {
      const conditional = (token: string) =>
        JSON.stringify({ ContactId: queued.Id, ContactFlowId: flow.Id, QueueId: queue.Id, ClientToken: token, Note: 'escalated: waited too long', Conditions: { InQueue: queued.QueueId, NotWithAgent: true } });
      lines.push(
        '# a conditional transfer (contract section 11): an agent accepts the task first, so it is skipped (409 CONDITION_NOT_MET, a Contact Transfer Skipped event)',
        `  curl -s -X POST ${gateway.url}/local/contacts/${queued.Id}/agent -d '{"UserId":"${agent.Id}"}'`,
        curl(conditional('demo-if-1')),
        '# the agent hands it back to the queue; a new ClientToken asks again (the same one keeps its answer for the idempotency window)',
        `  curl -s -X DELETE ${gateway.url}/local/contacts/${queued.Id}/agent`,
        curl(conditional('demo-if-2')),
      );
    }
    const detail = JSON.stringify(JSON.stringify({ ContactId: second.Id, ContactFlowId: flow.Id, QueueId: queue.Id }));
    lines.push(
      '# an event through the EventBridge rule',
      `  curl -s -X POST ${gateway.url}/events -H 'Content-Type: application/json' -d '{"Entries":[{"Source":"internal.contact-transfer","DetailType":"TransferContact","Detail":${detail}}]}'`,
    );
    const [escalated, ...burst] = active.slice(3).filter((contact) => contact !== queued);
    if (escalated) lines.push(...scheduleExamples(gateway, seed, { ContactId: escalated.Id, ContactFlowId: flow.Id, QueueId: queue.Id }));
    if (burst.length > 0) {
      const entries = burst.map((contact) => ({
        Source: 'internal.contact-transfer',
        DetailType: 'TransferContact',
        Detail: JSON.stringify({ ContactId: contact.Id, ContactFlowId: flow.Id, QueueId: queue.Id, ClientToken: `burst-${contact.Id.slice(-4)}` }),
      }));
      lines.push(
        `# a burst of ${burst.length} events in one PutEvents call: watch them drain at the gateway's pace, one published event each`,
        `  curl -s -X POST ${gateway.url}/events -H 'Content-Type: application/json' -d '${JSON.stringify({ Entries: entries })}'`,
        `  curl -s ${gateway.url}/events/published`,
      );
    }
    if (third) {
      lines.push(
        '# the internal-app command (no Region or credentials locally: local mode checks no signature)',
        `  npm run -s transfer-contact -- --endpoint ${gateway.url} --contact-id ${third.Id} --contact-flow-id ${flow.Id} --queue-id ${queue.Id}`,
      );
    }
  }
  lines.push('', 'Ctrl-C stops everything.');
  return lines.join('\n');
}

/**
 * A scheduled escalation a minute ahead, its state and the contact's schedules, and one cancelled. A ScheduleId
 * follows from the idempotency key, so the examples can name the schedules before they exist.
 */
function scheduleExamples(gateway: LocalGateway, seed: Seed, request: { ContactId: string; ContactFlowId: string; QueueId: string }): string[] {
  const schedules = `${gateway.url}/contact/transfer/schedules`;
  const scheduleId = (token: string): string => scheduleIdOf(idempotencyKeysOf({ ...request, ClientToken: token }, seed.instance.id).idempotencyKey);
  const create = (token: string, body: Record<string, unknown>): string =>
    `  curl -s -X POST ${schedules} -H 'Content-Type: application/json' -H 'Idempotency-Key: ${token}' -d '${JSON.stringify({ ...request, ...body })}'`;
  return [
    '# a scheduled transfer a minute ahead (contract section 12): escalate the task unless an agent has it by then',
    create('demo-escalation-1', { Note: 'escalation: still waiting', Conditions: { NotWithAgent: true }, AfterSeconds: 60 }),
    '# its state: SCHEDULED, then FIRED with the outcome a minute later (its transfer is in the history with its ScheduleId)',
    `  curl -s ${schedules}/${scheduleId('demo-escalation-1')}`,
    `  curl -s '${schedules}?ContactId=${request.ContactId}'`,
    '# another, cancelled before it fires: 204, and it never transfers',
    create('demo-escalation-2', { AfterSeconds: 120 }),
    `  curl -s -i -X DELETE ${schedules}/${scheduleId('demo-escalation-2')}`,
  ];
}

main().catch((error: unknown) => {
  const code = (error as { code?: unknown }).code;
  if (code === 'EADDRINUSE') console.error(`Port ${process.env.PORT ?? 3000} is already in use: stop what uses it, or start with PORT=<another port> npm start`);
  else console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
