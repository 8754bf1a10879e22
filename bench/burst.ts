/**
 * `npm run bench -- --burst N [--https R] [--compress F]`: a burst of N TransferContact events through the event door
 * as deployed, against a Connect simulator that enforces Connect's default quotas (TransferContact 2/s, burst 5).
 * - The function is the deployed bundle read back from the cloud assembly, with the template's configuration; each
 *   container is a fresh load of that bundle.
 * - The buffered wiring runs on the delivery models of local/buffered-delivery.ts with the stack's own numbers
 *   (EVENT_BUFFER: batch 3, max concurrency 2, visibility 120 s, 33 receives) and AWS's waits uncompressed; the
 *   bundle's SQS client sets a failed record's backoff on the buffer model through local/sqs-endpoint.ts.
 * - The alternative the buffer was chosen over, the rule invoking the function asynchronously, is run the same way: every event an asynchronous invocation at once,
 *   Lambda's two retries after about 1 and 2 minutes (Lambda developer guide, "Error handling and automatic retries
 *   in Lambda", asynchronous invocation), then the dead-letter queue. Those waits are divided by --compress (default
 *   10, printed), and pacing is off, since nothing holds the events back to pace them.
 * - --https R adds signed-caller-shaped HTTPS requests at R per second while the burst drains.
 * - --outside R adds a caller outside the gateway, in the same account, calling TransferContact at R per second on
 *   average, at random moments, on Connect's shared quota while the buffered burst drains (one attempt each, as a
 *   caller without retries would): it
 *   prints the share of the gateway's calls Connect throttled, the outside caller's refusals, and the drain against
 *   the floor for the rate left to the gateway, (N - burst) / (rate - R), and against the floor for the calls Connect
 *   took from both during the drain, which does not depend on how many calls the outside caller happened to make.
 * It prints numbers and asserts nothing.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { compileFunction, constants } from 'node:vm';
import { ConnectClient, TransferContactCommand } from '@aws-sdk/client-connect';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyResult, Context, SQSEvent } from 'aws-lambda';
import { EVENT_BUFFER } from '../lambda/event-buffer';
import { startSqsEndpoint } from '../local/sqs-endpoint';
import { EventSourceMappingModel, QueueModel, containerPool } from '../local/buffered-delivery';
import { synthesizeDeployedFunction } from '../test/support/deployed-artifact';
import { createGatewayTables, startEmbeddedDynamoDb } from '../local/embedded-dynamodb';
import { apiGatewayProxyEvent, eventBridgeEvent, lambdaContext, LOCAL_API_ENVIRONMENT } from '../local/lambda-events';
import { CONNECT_DEFAULT_QUOTAS, startConnectSimulator } from '../simulator/connect-simulator';
import type { ConnectSimulator } from '../simulator/connect-simulator';
import { poissonGapMs, TRANSFER_QUOTA as QUOTA } from './measure';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

export interface BurstOptions {
  readonly events: number;
  readonly httpsPerSecond: number;
  readonly outsidePerSecond: number;
  readonly compress: number;
}

const BUFFER_ARN = 'arn:aws:sqs:us-east-1:111122223333:event-buffer';
const FUNCTION_TIMEOUT_MS = 10_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** `npm run bench -- --burst N [--https R] [--compress F]`: run.ts hands over what follows `--burst`. */
export function burstBenchmark(argv: readonly string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { https: { type: 'string', default: '0' }, outside: { type: 'string', default: '0' }, compress: { type: 'string', default: '10' } },
  });
  const events = Number(positionals[0] ?? '200');
  const options = { events, httpsPerSecond: Number(values.https), outsidePerSecond: Number(values.outside), compress: Number(values.compress) };
  if (
    !Number.isInteger(events) ||
    events < 1 ||
    !(options.httpsPerSecond >= 0) ||
    !(options.outsidePerSecond >= 0 && options.outsidePerSecond < QUOTA.rate) ||
    !(options.compress >= 1)
  ) {
    throw new Error(
      'usage: npm run bench -- --burst <events> [--https <requests per second>] [--outside <calls per second of a caller outside the gateway, below the quota>] ' +
        '[--compress <factor of the async-invoke waits, at least 1>]',
    );
  }
  return runBurst(options);
}

export async function runBurst(options: BurstOptions): Promise<void> {
  console.log(
    `Burst of ${options.events} events against Connect's default TransferContact quota (${QUOTA.rate}/s, burst ${QUOTA.burst})` +
      (options.httpsPerSecond > 0 ? `, HTTPS requests at ${options.httpsPerSecond}/s meanwhile` : '') +
      (options.outsidePerSecond > 0 ? `, a caller outside the gateway at ${options.outsidePerSecond}/s on the same quota` : ''),
  );
  const [connect, dynamodb] = await Promise.all([startConnectSimulator({ quotas: CONNECT_DEFAULT_QUOTAS }), startEmbeddedDynamoDb()]);
  const artifact = synthesizeDeployedFunction(connect.instanceArn);
  try {
    const { NODE_OPTIONS: _sourceMapsCostExtra, POWERTOOLS_LOG_LEVEL: _quiet, ...fromTemplate } = artifact.environment;
    const base = {
      ...fromTemplate,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_ENDPOINT_URL_CONNECT: connect.url,
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb.url,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      // The REST API is a reference in the template; the HTTPS requests' events stand in for it.
      ...LOCAL_API_ENVIRONMENT,
    };
    let run = 0;
    /** Fresh tables and a full Connect bucket for each wiring; the environment as the template sets it. */
    const prepare = async (extra: Record<string, string>) => {
      run += 1;
      const env = { ...base, IDEMPOTENCY_TABLE_NAME: `burst-idempotency-${run}`, LEDGER_TABLE_NAME: `burst-ledger-${run}`, ...extra };
      const client = new DynamoDBClient({ endpoint: dynamodb.url, region: 'us-east-1', credentials: { accessKeyId: 'b', secretAccessKey: 'b' } });
      await createGatewayTables(client, { idempotency: env.IDEMPOTENCY_TABLE_NAME, ledger: env.LEDGER_TABLE_NAME });
      connect.reset();
      return (exported = 'handler') => loadContainer(artifact.entry, env, exported);
    };

    const flow = () => connect.addFlow({ Id: randomUUID(), Name: 'burst', Type: 'CONTACT_FLOW', State: 'ACTIVE', Status: 'PUBLISHED' }).Id;
    const queue = () => connect.addQueue({ Id: randomUUID(), Name: 'burst', Status: 'ENABLED' }).Id;

    // The buffered door, as the stack wires it.
    {
      const deadLetters = new QueueModel({ arn: `${BUFFER_ARN}-dlq`, visibilityTimeoutMs: 30_000 });
      const buffer = new QueueModel({
        arn: BUFFER_ARN,
        visibilityTimeoutMs: EVENT_BUFFER.visibilityTimeoutSeconds * 1000,
        maxReceiveCount: EVENT_BUFFER.maxReceiveCount,
        deadLetterQueue: deadLetters,
      });
      const sqs = await startSqsEndpoint([buffer]);
      const newContainer = await prepare({ EVENT_BUFFER_QUEUE_ARN: BUFFER_ARN, EVENT_MAX_RECEIVES: String(EVENT_BUFFER.maxReceiveCount), AWS_ENDPOINT_URL_SQS: sqs.url });
      const [flowId, queueId] = [flow(), queue()];
      const pool = containerPool(() => newContainer() as (event: SQSEvent, context: Context) => Promise<unknown>);
      const mapping = new EventSourceMappingModel({
        queue: buffer,
        handler: pool,
        batchSize: EVENT_BUFFER.batchSize,
        maxConcurrency: EVENT_BUFFER.maxConcurrency,
        functionTimeoutMs: FUNCTION_TIMEOUT_MS,
      });
      const contacts = Array.from({ length: options.events }, () => connect.addContact({ Id: randomUUID(), Channel: 'TASK' }).Id);
      const https = httpsTraffic(options.httpsPerSecond, newContainer(), connect, flowId, queueId);
      const outside = outsideCaller(options.outsidePerSecond, connect, flowId);
      const started = Date.now();
      for (const contactId of contacts) buffer.send(JSON.stringify(eventBridgeEvent({ ContactId: contactId, ContactFlowId: flowId, QueueId: queueId })));
      mapping.start();
      while (buffer.size > 0) await sleep(20);
      const drained = Date.now() - started;
      await mapping.stop();
      await sqs.close();
      const httpsCounts = await https.stop();
      const outsideCounts = await outside.stop();
      report('buffered (SQS + event source mapping, paced)', {
        connect,
        contacts,
        startedAt: started,
        deadLettered: deadLetters.size,
        drainedMs: drained,
        https: httpsCounts,
        outside: outsideCounts,
        extra: `containers ${pool.size()}, peak concurrency ${mapping.peakConcurrency}, invocations ${mapping.invocations.length}, records returned to the buffer ${mapping.invocations.reduce((sum, i) => sum + i.failed, 0)}, backoffs set ${buffer.visibilityChanges.length} (${backoffsOf(buffer)})`,
      });
    }

    // The alternative the buffer was chosen over: the rule invoking the function asynchronously with each event's detail, pacing off.
    {
      const newContainer = await prepare({ TRANSFER_RATE_PER_SECOND: '1000', TRANSFER_BURST: '100' });
      const [flowId, queueId] = [flow(), queue()];
      const handler = newContainer('invoke');
      const contacts = Array.from({ length: options.events }, () => connect.addContact({ Id: randomUUID(), Channel: 'TASK' }).Id);
      const retryDelays = [60_000, 120_000].map((ms) => ms / options.compress);
      const https = httpsTraffic(options.httpsPerSecond, newContainer(), connect, flowId, queueId);
      const started = Date.now();
      let deadLettered = 0;
      await Promise.all(
        contacts.map(async (contactId) => {
          const event = { ContactId: contactId, ContactFlowId: flowId, QueueId: queueId };
          for (let attempt = 0; ; attempt += 1) {
            try {
              await handler(event, lambdaContext(FUNCTION_TIMEOUT_MS));
              return;
            } catch {
              const delay = retryDelays[attempt];
              if (delay === undefined) {
                deadLettered += 1;
                return;
              }
              await sleep(delay);
            }
          }
        }),
      );
      const drained = lastTransferAt(connect) - started;
      const httpsCounts = await https.stop();
      report(`direct async invoke (Lambda retries after 1 and 2 min, compressed ${options.compress}x to ${retryDelays.map(seconds).join(' and ')})`, {
        connect,
        contacts,
        deadLettered,
        drainedMs: drained,
        https: httpsCounts,
        extra: `drain time is in compressed time; uncompressed, each retry round adds ${options.compress}x its compressed wait`,
      });
    }
  } finally {
    artifact.cleanup();
    await Promise.all([connect.close(), dynamodb.close()]);
  }
}

/** The waits ChangeMessageVisibility set, by how often: what the failed records were told. */
function backoffsOf(buffer: QueueModel): string {
  const bySeconds = new Map<number, number>();
  for (const { seconds: wait } of buffer.visibilityChanges) bySeconds.set(wait, (bySeconds.get(wait) ?? 0) + 1);
  return [...bySeconds].sort(([a], [b]) => a - b).map(([wait, count]) => `${count} x ${wait} s`).join(', ') || 'none';
}

/**
 * A cold container: a fresh evaluation of the bundle whose `process.env` is `env` alone, as Lambda gives each function
 * its own environment. The bundle reads its environment when it loads and again later (the SDK's credentials and
 * endpoints on first use), so the two wirings' containers, loaded side by side in this process, each keep their own
 * without this process's environment being written.
 */
function loadContainer(entry: string, env: Readonly<Record<string, string>>, exported: string): Handler {
  const containerEnv = { ...env };
  const containerProcess = new Proxy(process, { get: (target, key) => (key === 'env' ? containerEnv : Reflect.get(target, key, target)) });
  const load = createRequire(entry);
  const containerRequire = (id: string): unknown => (id === 'process' || id === 'node:process' ? containerProcess : load(id));
  const loaded = { exports: {} as Record<string, Handler | undefined> };
  const evaluate = compileFunction(readFileSync(entry, 'utf8'), ['exports', 'require', 'module', '__filename', '__dirname', 'process'], {
    filename: entry,
    // The SDK imports Node's https lazily, with import().
    importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  evaluate(loaded.exports, containerRequire, loaded, entry, dirname(entry), containerProcess);
  const handler = loaded.exports[exported];
  if (!handler) throw new Error(`${entry} exports no ${exported}`);
  return handler;
}

interface HttpsCounts {
  readonly sent: number;
  readonly byStatus: Record<string, number>;
}

/** HTTPS requests at a steady rate through the same bundle, as API Gateway (throttled at the stage) would send them. */
function httpsTraffic(perSecond: number, handler: Handler, connect: ConnectSimulator, flowId: string, queueId: string): { stop(): Promise<HttpsCounts> } {
  if (perSecond <= 0) return { stop: async () => ({ sent: 0, byStatus: {} }) };
  const byStatus: Record<string, number> = {};
  const pending = new Set<Promise<void>>();
  let sent = 0;
  const timer = setInterval(() => {
    sent += 1;
    const body = JSON.stringify({ ContactId: connect.addContact({ Id: randomUUID(), Channel: 'TASK' }).Id, ContactFlowId: flowId, QueueId: queueId });
    const request = (handler(apiGatewayProxyEvent({ body, headers: { 'Content-Type': 'application/json' } }), lambdaContext(FUNCTION_TIMEOUT_MS)) as Promise<APIGatewayProxyResult>)
      .then((result) => {
        byStatus[result.statusCode] = (byStatus[result.statusCode] ?? 0) + 1;
      })
      .finally(() => pending.delete(request));
    pending.add(request);
  }, 1000 / perSecond);
  return {
    stop: async () => {
      clearInterval(timer);
      await Promise.all(pending);
      return { sent, byStatus };
    },
  };
}

interface OutsideCounts {
  readonly perSecond: number;
  readonly contacts: ReadonlySet<string>;
  readonly refused: number;
}

/**
 * Another caller in the account: TransferContact at R calls per second on average, one attempt each, on the quota the
 * gateway shares. Its calls come at random moments (a Poisson process: exponential gaps), as an independent caller's
 * would; at a fixed period they would keep one phase against the gateway's paced slots (2 s is three slots at 1.5/s),
 * and every run would be either all lucky or all unlucky for it.
 */
function outsideCaller(perSecond: number, connect: ConnectSimulator, flowId: string): { stop(): Promise<OutsideCounts> } {
  const contacts = new Set<string>();
  if (perSecond <= 0) return { stop: async () => ({ perSecond, contacts, refused: 0 }) };
  const client = new ConnectClient({ region: 'us-east-1', endpoint: connect.url, credentials: { accessKeyId: 'outside', secretAccessKey: 'outside' }, maxAttempts: 1 });
  const pending = new Set<Promise<void>>();
  let refused = 0;
  let timer: NodeJS.Timeout | undefined;
  const call = () => {
    const contactId = connect.addContact({ Id: randomUUID(), Channel: 'TASK' }).Id;
    contacts.add(contactId);
    const sent = client
      .send(new TransferContactCommand({ InstanceId: connect.instanceId, ContactId: contactId, ContactFlowId: flowId }))
      .then(
        () => undefined,
        () => {
          refused += 1;
        },
      )
      .finally(() => pending.delete(sent));
    pending.add(sent);
    schedule();
  };
  const schedule = () => {
    timer = setTimeout(call, poissonGapMs(perSecond, Math.random()));
  };
  schedule();
  return {
    stop: async () => {
      clearTimeout(timer);
      await Promise.all(pending);
      return { perSecond, contacts, refused };
    },
  };
}

function lastTransferAt(connect: ConnectSimulator): number {
  return Math.max(0, ...connect.calls('TransferContact').filter((call) => call.status === 200).map((call) => call.at));
}

function report(
  wiring: string,
  {
    connect,
    contacts,
    deadLettered,
    drainedMs,
    https,
    outside,
    extra,
    startedAt,
  }: {
    connect: ConnectSimulator;
    contacts: readonly string[];
    deadLettered: number;
    drainedMs: number;
    https: HttpsCounts;
    outside?: OutsideCounts;
    extra: string;
    startedAt?: number;
  },
): void {
  const successes = new Map<string, number>();
  const outsiders = outside?.contacts ?? new Set<string>();
  const gatewayCalls = connect.calls('TransferContact').filter((call) => !outsiders.has(call.input.ContactId ?? ''));
  for (const call of gatewayCalls) {
    if (call.status === 200 && call.input.ContactId) successes.set(call.input.ContactId, (successes.get(call.input.ContactId) ?? 0) + 1);
  }
  const events = new Set(contacts);
  const transferred = contacts.filter((contact) => (successes.get(contact) ?? 0) >= 1).length;
  const twice = contacts.filter((contact) => (successes.get(contact) ?? 0) > 1).length;
  const httpsTransfers = [...successes.keys()].filter((contact) => !events.has(contact)).length;
  const connectCalls = connect.callCount();
  const throttled = connect.throttledCount();
  const floorMs = ((contacts.length - QUOTA.burst) / QUOTA.rate) * 1000;
  const sharedFloorMs = ((contacts.length + httpsTransfers - QUOTA.burst) / QUOTA.rate) * 1000;
  console.log(`\n${wiring}`);
  const rows: [string, string][] = [
    ['transferred', `${transferred} of ${contacts.length}`],
    ['dead-lettered', String(deadLettered)],
    ['transferred twice', String(twice)],
    ['throttled Connect calls', `${throttled} of ${connectCalls} (${((100 * throttled) / Math.max(1, connectCalls)).toFixed(1)}%), TransferContact ${connect.throttledCount('TransferContact')} of ${connect.callCount('TransferContact')}`],
    ['time to drain', seconds(drainedMs)],
    // The drain counts the containers' cold starts; on a loaded machine they take seconds of it.
    ...(startedAt === undefined ? [] : ([['first call to Connect', `after ${seconds(Math.min(...gatewayCalls.map((call) => call.at)) - startedAt)}`]] as [string, string][])),
    ['floor (N - burst) / rate', `${seconds(floorMs)}; drain = ${(drainedMs / floorMs).toFixed(2)} x floor`],
  ];
  if (https.sent > 0) {
    rows.push(['HTTPS requests', `${https.sent} sent, ${Object.entries(https.byStatus).map(([status, count]) => `${count} x ${status}`).join(', ')}`]);
    rows.push(['floor with the HTTPS transfers', `${seconds(sharedFloorMs)} for ${contacts.length + httpsTransfers} transfers; drain = ${(drainedMs / sharedFloorMs).toFixed(2)} x`]);
  }
  if (outside && outside.perSecond > 0) {
    const gatewayThrottled = gatewayCalls.filter((call) => call.status === 429).length;
    const leftFloorMs = ((contacts.length - QUOTA.burst) / (QUOTA.rate - outside.perSecond)) * 1000;
    rows.push(['gateway calls throttled', `${gatewayThrottled} of ${gatewayCalls.length} TransferContact calls (${((100 * gatewayThrottled) / Math.max(1, gatewayCalls.length)).toFixed(1)}%)`]);
    rows.push(['outside caller refused', `${outside.refused} of ${outside.contacts.size} calls at ${outside.perSecond}/s`]);
    rows.push([
      'floor for the rate left',
      `(N - burst) / (rate - outside) = ${seconds(leftFloorMs)}; drain = ${(drainedMs / leftFloorMs).toFixed(2)} x that floor`,
    ]);
    // The other caller's random moments give it more or fewer calls than its rate in one drain; this floor counts the
    // calls Connect took from it meanwhile, so it does not move with that luck.
    if (startedAt !== undefined) {
      const drainedAt = startedAt + drainedMs;
      const outsideTaken = connect.calls('TransferContact').filter((call) => outsiders.has(call.input.ContactId ?? '') && call.status === 200 && call.at <= drainedAt).length;
      const takenFloorMs = ((contacts.length + httpsTransfers + outsideTaken - QUOTA.burst) / QUOTA.rate) * 1000;
      rows.push([
        'floor for what Connect took',
        `(N${httpsTransfers > 0 ? ` + ${httpsTransfers} HTTPS transfers` : ''} + ${outsideTaken} outside calls taken - burst) / rate = ${seconds(takenFloorMs)}; drain = ${(drainedMs / takenFloorMs).toFixed(2)} x that floor`,
      ]);
    }
  }
  rows.push(['', extra]);
  const width = Math.max(...rows.map(([name]) => name.length));
  for (const [name, value] of rows) console.log(`  ${name.padEnd(width)}  ${value}`);
}
