/**
 * `npm run bench`: the figures of the Performance section, measured side by side in one run, medians over
 * repeated runs. It prints numbers; it asserts nothing (timing on a shared 2-core machine is noisy).
 *   --runs N      latency and cold-import repetitions (default 15)
 *   --latency MS  latency injected on every Connect and DynamoDB request (default 25; also measured at 4x)
 */
import { fork, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { BuildOptions } from 'esbuild';
import { bundleGateway } from '../lib/gateway-bundle';
import { createGatewayTables, startEmbeddedDynamoDb } from '../local/embedded-dynamodb';
import type { EmbeddedDynamoDb } from '../local/embedded-dynamodb';
import { synthesizeDeployedFunction } from '../local/deployed-artifact';
import { LOCAL_API_ENVIRONMENT } from '../local/lambda-events';
import { startConnectSimulator } from '../simulator/connect-simulator';
import type { ConnectSimulator } from '../simulator/connect-simulator';
import type { WorkerReply, WorkerRequest } from './gateway-worker';

const ROOT = join(__dirname, '..');
const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '15' }, latency: { type: 'string', default: '25' } } });
const RUNS = Number(args.runs);
const LATENCY_MS = Number(args.latency);

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};
const ms = (value: number): string => `${value.toFixed(1)} ms`;
const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;
const table = (rows: (string | number)[][]): void => {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => String(row[column]).length))) ?? [];
  for (const row of rows) console.log(`  ${row.map((cell, column) => String(cell).padEnd(widths[column] ?? 0)).join('  ')}`);
};

async function main(): Promise<void> {
  console.log(`Contact transfer gateway benchmark: node ${process.version}, ${process.arch}, ${RUNS} runs, injected latency ${LATENCY_MS} ms`);
  const [connect, dynamodb] = await Promise.all([startConnectSimulator(), startEmbeddedDynamoDb()]);
  const workdir = mkdtempSync(join(tmpdir(), 'ctg-bench-'));
  const artifact = synthesizeDeployedFunction(connect.instanceArn);
  try {
    const env = await gatewayEnvironment(connect, dynamodb.url, artifact.environment);
    await bundleFigures(artifact.entry, workdir, env);
    const worker = fork(join(__dirname, 'gateway-worker.ts'), {
      execArgv: ['--expose-gc', '--import', 'tsx', ...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : [])],
      env: { ...process.env, ...env, BENCH_ENTRY: artifact.entry },
      // The template's log level is measured as deployed; the lines themselves are not needed.
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    try {
      await latencyFigures(worker, connect, dynamodb);
      await memoryFigures(worker, connect);
    } finally {
      // Closing the channel lets the worker exit on its own (and write a profile when BENCH_PROFILE asks for one).
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.disconnect();
      await exited;
    }
  } finally {
    artifact.cleanup();
    rmSync(workdir, { recursive: true, force: true });
    await Promise.all([connect.close(), dynamodb.close()]);
  }
}

async function gatewayEnvironment(connect: ConnectSimulator, dynamodbUrl: string, fromTemplate: Readonly<Record<string, string>>): Promise<Record<string, string>> {
  const { NODE_OPTIONS: _sourceMapsCostExtraAndLambdaSetsItAnyway, ...templateEnvironment } = fromTemplate;
  const env = {
    ...templateEnvironment,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_ENDPOINT_URL_CONNECT: connect.url,
    AWS_ENDPOINT_URL_DYNAMODB: dynamodbUrl,
    IDEMPOTENCY_TABLE_NAME: 'bench-idempotency',
    LEDGER_TABLE_NAME: 'bench-ledger',
    // The REST API is a reference in the template; the worker's events stand in for it.
    ...LOCAL_API_ENVIRONMENT,
    POWERTOOLS_METRICS_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  await createGatewayTables(new DynamoDBClient({ endpoint: dynamodbUrl, region: 'us-east-1', credentials: { accessKeyId: 'b', secretAccessKey: 'b' } }), {
    idempotency: env.IDEMPOTENCY_TABLE_NAME,
    ledger: env.LEDGER_TABLE_NAME,
  });
  return env;
}

/** The deployed bundle next to the alternatives it was chosen over, built from the same entry and options. */
async function bundleFigures(deployedEntry: string, workdir: string, env: Record<string, string>): Promise<void> {
  const variant = async (name: string, overrides: BuildOptions): Promise<string> => {
    const outdir = join(workdir, name);
    await bundleGateway(outdir, { ...overrides, logLevel: 'silent', sourcemap: false });
    return join(outdir, 'index.js');
  };
  const entries: [string, string][] = [
    ['deployed (GATEWAY_BUNDLE)', deployedEntry],
    ['without pure schema keys', await variant('schema-keys', { plugins: [] })],
    ['whole SDK bundled', await variant('sdk-whole', { external: [] })],
    ['SDK left to the runtime', await variant('sdk-external', { external: ['@aws-sdk/*'] })],
    ['default main fields', await variant('main-fields', { mainFields: undefined })],
    ['not minified', await variant('unminified', { minify: false })],
  ];
  // The Lambda runtime resolves a bundle's externals from its own SDK copy; node_modules plays that part here.
  const importEnv = { ...process.env, ...env, NODE_PATH: join(ROOT, 'node_modules') };
  const timeNode = (script: string): number => {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, ['-e', script], { env: importEnv, stdio: ['ignore', 'ignore', 'pipe'] });
    if (result.status !== 0) throw new Error(`node -e failed: ${result.stderr.toString()}`);
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  const samples = new Map<string, number[]>([['node -e 0', []], ...entries.map(([name]): [string, number[]] => [name, []])]);
  for (let run = 0; run < RUNS; run += 1) {
    samples.get('node -e 0')?.push(timeNode('0'));
    for (const [name, entry] of entries) samples.get(name)?.push(timeNode(`require(${JSON.stringify(entry)})`));
  }
  const floor = median(samples.get('node -e 0') ?? []);
  console.log(`\nBundle and cold import (median of ${RUNS} interleaved runs; node -e 0 = ${ms(floor)})`);
  table([
    ['bundle', 'size', 'cold import', 'above node -e 0'],
    ...entries.map(([name, entry]) => {
      const cold = median(samples.get(name) ?? []);
      return [name, kb(statSync(entry).size), ms(cold), ms(cold - floor)];
    }),
  ]);
}

/** Sends one request to the worker and waits for its answer. */
function ask(worker: ChildProcess, request: WorkerRequest): Promise<WorkerReply> {
  return new Promise((resolve, reject) => {
    worker.once('message', (reply: WorkerReply) => ('error' in reply ? reject(new Error(reply.error)) : resolve(reply)));
    worker.send(request);
  });
}

async function timed(worker: ChildProcess, request: WorkerRequest): Promise<{ ms: number; cpuMs: number }> {
  const reply = await ask(worker, request);
  if (!('ms' in reply)) throw new Error('the worker did not time the request');
  return reply;
}

/** The gateway against a bare handler that only calls TransferContact, both under the same injected latency. */
async function latencyFigures(worker: ChildProcess, connect: ConnectSimulator, dynamodb: EmbeddedDynamoDb): Promise<void> {
  const warmFlow = connect.addFlow({ Id: randomUUID(), Name: 'bench inbound', Type: 'CONTACT_FLOW', State: 'ACTIVE', Status: 'PUBLISHED' }).Id;
  const warmQueue = connect.addQueue({ Id: randomUUID(), Name: 'bench queue', Status: 'ENABLED' }).Id;
  const newContact = (): string => connect.addContact({ Id: randomUUID(), Channel: 'TASK' }).Id;
  const paths: Record<string, () => WorkerRequest> = {
    bare: () => ({ op: 'bare', body: { InstanceId: connect.instanceId, ContactId: newContact(), ContactFlowId: warmFlow, QueueId: warmQueue, ClientToken: randomUUID() } }),
    warm: () => ({ op: 'gateway', body: { ContactId: newContact(), ContactFlowId: warmFlow, QueueId: warmQueue } }),
    // A flow and queue never seen before: nothing cached, as in a new container.
    cold: () => ({
      op: 'gateway',
      body: {
        ContactId: newContact(),
        ContactFlowId: connect.addFlow({ Id: randomUUID(), Name: 'bench cold', Type: 'CONTACT_FLOW', State: 'ACTIVE', Status: 'PUBLISHED' }).Id,
        QueueId: connect.addQueue({ Id: randomUUID(), Name: 'bench cold', Status: 'ENABLED' }).Id,
      },
    }),
  };
  // Unmeasured first rounds: connections, JIT and the warm flow/queue cache.
  for (let round = 0; round < 3; round += 1) for (const request of Object.values(paths)) await timed(worker, request());

  const measure = async (latencyMs: number) => {
    connect.setLatency(latencyMs);
    dynamodb.setLatency(latencyMs);
    const timings = new Map<string, number[]>(Object.keys(paths).map((name) => [name, []]));
    const cpu = new Map<string, number[]>(Object.keys(paths).map((name) => [name, []]));
    const calls = new Map<string, { connect: number; dynamodb: number }>(Object.keys(paths).map((name) => [name, { connect: 0, dynamodb: 0 }]));
    for (let run = 0; run < RUNS; run += 1) {
      for (const [name, request] of Object.entries(paths)) {
        const connectBefore = connect.callCount();
        const dynamoBefore = dynamodb.requestCount();
        const { ms: elapsed, cpuMs } = await timed(worker, request());
        timings.get(name)?.push(elapsed);
        cpu.get(name)?.push(cpuMs);
        const counted = calls.get(name);
        if (counted) {
          counted.connect += connect.callCount() - connectBefore;
          counted.dynamodb += dynamodb.requestCount() - dynamoBefore;
        }
      }
    }
    connect.setLatency(0);
    dynamodb.setLatency(0);
    return {
      medians: new Map([...timings].map(([name, values]) => [name, median(values)])),
      cpuMedians: new Map([...cpu].map(([name, values]) => [name, median(values)])),
      calls,
    };
  };
  const without = await measure(0);
  // At four times the latency the fixed CPU cost weighs four times less: the stage count converges on the structure.
  for (const latencyMs of [LATENCY_MS, 4 * LATENCY_MS]) {
    const withLatency = await measure(latencyMs);
    const bareMedian = withLatency.medians.get('bare') ?? 0;
    console.log(`\nTransfer latency with ${latencyMs} ms on every Connect and DynamoDB request (median of ${RUNS} interleaved runs)`);
    console.log(`  sequential stages = (median at ${latencyMs} ms - median at 0 ms) / ${latencyMs} ms: how many round trips wait on one another`);
    console.log("  function CPU = the function process's own CPU time per transfer (signing, hashing, JSON, logs, metrics)");
    table([
      ['path', `median at ${latencyMs} ms`, 'ratio to bare', 'median at 0 ms', 'sequential stages', 'function CPU', 'Connect calls', 'DynamoDB requests'],
      ...Object.keys(paths).map((name) => {
        const counted = withLatency.calls.get(name) ?? { connect: 0, dynamodb: 0 };
        const slow = withLatency.medians.get(name) ?? 0;
        const fast = without.medians.get(name) ?? 0;
        return [
          name === 'bare' ? 'bare TransferContact' : `gateway, ${name}`,
          ms(slow),
          `${(slow / bareMedian).toFixed(2)} x`,
          ms(fast),
          ((slow - fast) / latencyMs).toFixed(2),
          ms(withLatency.cpuMedians.get(name) ?? 0),
          (counted.connect / RUNS).toFixed(1),
          (counted.dynamodb / RUNS).toFixed(1),
        ];
      }),
    ]);
  }
}

/** Memory of the worker (one warm container) after 1,000 warm transfers against after 10. */
async function memoryFigures(worker: ChildProcess, connect: ConnectSimulator): Promise<void> {
  const flowId = connect.addFlow({ Id: randomUUID(), Name: 'bench memory', Type: 'CONTACT_FLOW', State: 'ACTIVE', Status: 'PUBLISHED' }).Id;
  const queueId = connect.addQueue({ Id: randomUUID(), Name: 'bench memory', Status: 'ENABLED' }).Id;
  const samples: { transfers: number; heapUsedBytes: number; rssBytes: number }[] = [];
  for (let done = 1; done <= 1000; done += 1) {
    await timed(worker, { op: 'gateway', body: { ContactId: connect.addContact({ Id: randomUUID(), Channel: 'TASK' }).Id, ContactFlowId: flowId, QueueId: queueId } });
    if (done === 10 || done === 1000) {
      const reply = await ask(worker, { op: 'memory' });
      if ('heapUsedBytes' in reply) samples.push({ transfers: done, ...reply });
    }
  }
  const [after10, after1000] = samples;
  console.log('\nMemory of one warm container (after a full GC)');
  table([
    ['after', 'heap used', 'resident'],
    ...samples.map((sample) => [`${sample.transfers} transfers`, kb(sample.heapUsedBytes), kb(sample.rssBytes)]),
    ...(after10 && after1000 ? [['growth', kb(after1000.heapUsedBytes - after10.heapUsedBytes), kb(after1000.rssBytes - after10.rssBytes)]] : []),
  ]);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
