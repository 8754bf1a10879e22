/**
 * `npm run bench`: the figures of the Performance section, measured side by side in one run, medians over
 * repeated interleaved runs. It prints numbers; it asserts nothing (timing on a shared 2-core machine is noisy).
 *   --runs N           repetitions of every latency, cold-start and cold-import figure (default 11)
 *   --latency MS       latency injected on every Connect and DynamoDB request (default 25; also measured at 4x)
 *   --memory 512,1024  Lambda memory sizes whose CPU share the function runs under (default 256,512,1024,1769
 *                      and the construct's default); needs bench/lambda-cpu (or the tool LAMBDA_CPU names), else none
 * BENCH_PROFILE=1 writes CPU profiles of the warm worker and of one cold start to /tmp/prof.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { BuildOptions, Plugin } from 'esbuild';
import { DEFAULT_MEMORY_SIZE_MB } from '../lib/contact-transfer-gateway';
import { bundleGateway, GATEWAY_BUNDLE, memberOnlyJmesPath, pureSchemaKeys, withoutEventStreams } from '../lib/gateway-bundle';
import { startEmbeddedDynamoDb } from '../local/embedded-dynamodb';
import type { EmbeddedDynamoDb } from '../local/embedded-dynamodb';
import { synthesizeDeployedFunction } from '../test/support/deployed-artifact';
import { apiGatewayProxyEvent } from '../local/lambda-events';
import { startConnectSimulator, UNLIMITED } from '../simulator/connect-simulator';
import type { ConnectSimulator } from '../simulator/connect-simulator';
import type { ColdStartTimings } from './cold-start';
import type { WorkerRequest } from './gateway-worker';
import {
  ask,
  benchEnvironment,
  coldStart,
  coldStartScript,
  createBenchTables,
  findLambdaCpu,
  kb,
  median,
  ms,
  PROFILE_DIR,
  ROOT,
  Samples,
  table,
  timed,
  timeNode,
  times,
  WorkerPool,
} from './measure';

/** The configured size and its neighbours; 1,769 MB is where Lambda gives one full vCPU. */
const MEMORY_SIZES_MB = [...new Set([256, 512, 1024, 1769, DEFAULT_MEMORY_SIZE_MB])].sort((a, b) => a - b);

/**
 * Lambda on arm64, US East (N. Virginia), first pricing tier: $0.0000133334 per GB-second and $0.20 per million
 * requests (aws.amazon.com/lambda/pricing), duration billed rounded up to the millisecond, a GB being 1,024 MB.
 */
const LAMBDA_ARM_PRICE = { perGbSecond: 0.0000133334, perRequest: 0.2 / 1e6 } as const;
const costPerThousand = (durationMs: number, memoryMb: number): number =>
  1000 * ((Math.ceil(durationMs) / 1000) * (memoryMb / 1024) * LAMBDA_ARM_PRICE.perGbSecond + LAMBDA_ARM_PRICE.perRequest);

interface Options {
  readonly runs: number;
  readonly latencyMs: number;
  readonly memorySizes: readonly number[];
}

function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      runs: { type: 'string', default: '11' },
      latency: { type: 'string', default: '25' },
      memory: { type: 'string', default: MEMORY_SIZES_MB.join(',') },
    },
  });
  const memorySizes = values.memory.split(',').filter(Boolean).map(Number);
  const bad = memorySizes.find((size) => !Number.isInteger(size) || size < 128 || size > 10_240);
  if (bad !== undefined) throw new Error(`--memory takes Lambda memory sizes from 128 to 10240 MB, got ${bad}`);
  return { runs: Number(values.runs), latencyMs: Number(values.latency), memorySizes };
}

const dollars = (value: number): string => `$${value.toFixed(5)}`;

interface Bench {
  readonly options: Options;
  readonly connect: ConnectSimulator;
  readonly dynamodb: EmbeddedDynamoDb;
  readonly env: Record<string, string>;
  /** NODE_OPTIONS as the template sets them: part of a cold start as Lambda has it. */
  readonly nodeOptions: string;
  readonly lambdaCpu: string | undefined;
}

async function main(argv: readonly string[]): Promise<void> {
  const parsed = parseOptions(argv);
  const lambdaCpu = await findLambdaCpu();
  const options = lambdaCpu ? parsed : { ...parsed, memorySizes: [] };
  console.log(
    `Contact transfer gateway benchmark: node ${process.version}, ${process.arch}, ${options.runs} runs, injected latency ${options.latencyMs} ms, ` +
      `memory sizes ${options.memorySizes.join(', ') || 'none (lambda-cpu unavailable: full machine speed only)'}, default ${DEFAULT_MEMORY_SIZE_MB} MB`,
  );
  // Latency, not the quota, is measured here (bench/burst.ts measures the quota): Connect throttles nothing.
  const [connect, dynamodb] = await Promise.all([startConnectSimulator({ quotas: UNLIMITED }), startEmbeddedDynamoDb()]);
  const workdir = mkdtempSync(join(tmpdir(), 'ctg-bench-'));
  const artifact = synthesizeDeployedFunction(connect.instanceArn);
  const workers = new WorkerPool(lambdaCpu);
  try {
    const { NODE_OPTIONS: nodeOptions = '', ...templateEnvironment } = artifact.environment;
    const bench: Bench = { options, connect, dynamodb, env: benchEnvironment(connect, dynamodb.url, templateEnvironment), nodeOptions, lambdaCpu };
    await createBenchTables(dynamodb.url, bench.env);
    await bundleFigures(bench, artifact.entry, workdir);
    const cold = await coldStartFigures(bench, artifact.entry, workdir);

    const startWorker = (memoryMb: number | undefined): Promise<ChildProcess> =>
      workers.start(artifact.entry, bench.env, memoryMb, process.env.BENCH_PROFILE && memoryMb === undefined ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : []);
    const machine = await startWorker(undefined);
    const capped = new Map<number, ChildProcess>();
    for (const memoryMb of options.memorySizes) capped.set(memoryMb, await startWorker(memoryMb));

    await latencyFigures(bench, machine);
    await conditionWindowFigures(bench, machine);
    const warm = await latencyByMemorySize(bench, machine, capped);
    memorySizeSummary(bench, warm, cold);
    await memoryFigures(machine, connect);
  } finally {
    await workers.stop();
    artifact.cleanup();
    rmSync(workdir, { recursive: true, force: true });
    await Promise.all([connect.close(), dynamodb.close()]);
  }
}

/** The deployed bundle next to the alternatives it was chosen over, built from the same entry and options. */
async function bundleFigures({ options, env }: Bench, deployedEntry: string, workdir: string): Promise<void> {
  const variant = async (name: string, overrides: BuildOptions): Promise<string> => {
    const outdir = join(workdir, name);
    await bundleGateway(outdir, { ...overrides, logLevel: 'silent', sourcemap: false });
    return join(outdir, 'index.js');
  };
  // Each plugin's row is the deployed bundle without that one plugin, so the row shows what the plugin alone saves.
  const without = (plugin: Plugin): BuildOptions => ({ plugins: (GATEWAY_BUNDLE.plugins ?? []).filter((used) => used !== plugin) });
  const entries: [string, string][] = [
    ['deployed (GATEWAY_BUNDLE)', deployedEntry],
    ['without pure schema keys', await variant('schema-keys', without(pureSchemaKeys))],
    ['with the event-stream codec', await variant('event-streams', without(withoutEventStreams))],
    ['with the JMESPath engine', await variant('jmespath', without(memberOnlyJmesPath))],
    ['whole SDK bundled', await variant('sdk-whole', { external: [] })],
    ['SDK left to the runtime', await variant('sdk-external', { external: ['@aws-sdk/*'] })],
    ['default main fields', await variant('main-fields', { mainFields: undefined })],
    ['not minified', await variant('unminified', { minify: false })],
  ];
  // The Lambda runtime resolves a bundle's externals from its own SDK copy; node_modules plays that part here.
  const importEnv = { ...process.env, ...env, NODE_PATH: join(ROOT, 'node_modules') };
  const samples = new Samples();
  for (let run = 0; run < options.runs; run += 1) {
    samples.add('node -e 0', await timeNode('0', importEnv));
    for (const [name, entry] of entries) samples.add(name, await timeNode(`require(${JSON.stringify(entry)})`, importEnv));
  }
  const floor = samples.median('node -e 0');
  console.log(`\nBundle and cold import (median of ${options.runs} interleaved runs; node -e 0 = ${ms(floor)})`);
  table([
    ['bundle', 'size', 'cold import', 'above node -e 0'],
    ...entries.map(([name, entry]) => {
      const cold = samples.median(name);
      return [name, kb(statSync(entry).size), ms(cold), ms(cold - floor)];
    }),
  ]);
}

/** Cold-start medians by memory size ('machine' = no CPU cap) and path. */
type ColdFigures = Map<string, { bare: number; gateway: number }>;

const SOURCE_MAPS = '--enable-source-maps';
const machineOr = (memoryMb: number | undefined): string => (memoryMb === undefined ? 'machine' : `${memoryMb} MB`);

/**
 * The first request of a fresh process, as Lambda serves it after a cold start: the deployed bundle is loaded and
 * answers one request, next to the bare handler bundled the same way doing the same, under each memory size's CPU
 * share (the process alone is capped, not the simulator or DynamoDB), interleaved. At the default size also the
 * deployed bundle with source maps toggled, and a first request that fails (a 5xx from Connect, logged with its stack).
 */
async function coldStartFigures(bench: Bench, deployedEntry: string, workdir: string): Promise<ColdFigures> {
  const { options, connect, env, nodeOptions, lambdaCpu } = bench;
  const bareEntry = join(workdir, 'bare', 'index.js');
  const coldStarts = { script: await coldStartScript(workdir), env, lambdaCpu };
  await bundleGateway(join(workdir, 'bare'), { entryPoints: [join(__dirname, 'bare-handler.ts')], logLevel: 'silent' });

  const flowId = connect.addFlow({ Id: randomUUID(), Name: 'bench cold start', Type: 'CONTACT_FLOW', State: 'ACTIVE', Status: 'PUBLISHED' }).Id;
  const queueId = connect.addQueue({ Id: randomUUID(), Name: 'bench cold start', Status: 'ENABLED' }).Id;
  const newContact = (): string => connect.addContact({ Id: randomUUID(), Channel: 'TASK' }).Id;
  const gatewayEvent = (): unknown => apiGatewayProxyEvent({ body: JSON.stringify({ ContactId: newContact(), ContactFlowId: flowId, QueueId: queueId }) });
  const bareEvent = (): unknown => ({ InstanceId: connect.instanceId, ContactId: newContact(), ContactFlowId: flowId, QueueId: queueId, ClientToken: randomUUID() });
  const toggled = nodeOptions.includes(SOURCE_MAPS) ? nodeOptions.replace(SOURCE_MAPS, '').trim() : `${nodeOptions} ${SOURCE_MAPS}`.trim();
  const toggledName = nodeOptions.includes(SOURCE_MAPS) ? `without ${SOURCE_MAPS}` : `with ${SOURCE_MAPS}`;

  const start = (entry: string, event: unknown, memoryMb: number | undefined, nodeOptionsOf: string, extraArgs: string[] = []): Promise<ColdStartTimings> =>
    coldStart(coldStarts, entry, event, memoryMb, nodeOptionsOf, extraArgs);

  type Case = { name: string; memoryMb: number | undefined; run: () => Promise<ColdStartTimings>; expect: number };
  const cases: Case[] = [];
  for (const memoryMb of [undefined, ...options.memorySizes]) {
    cases.push({ name: `bare|${machineOr(memoryMb)}`, memoryMb, run: () => start(bareEntry, bareEvent(), memoryMb, ''), expect: 200 });
    cases.push({ name: `gateway|${machineOr(memoryMb)}`, memoryMb, run: () => start(deployedEntry, gatewayEvent(), memoryMb, nodeOptions), expect: 200 });
  }
  // The SDK makes three attempts at a 500 before the gateway answers; the simulator fails all three.
  const failingFirst = (nodeOptionsOf: string, memoryMb: number | undefined) => () => {
    connect.failNext('TransferContact', 3, 'internal');
    return start(deployedEntry, gatewayEvent(), memoryMb, nodeOptionsOf);
  };
  const defaultSize = options.memorySizes.includes(DEFAULT_MEMORY_SIZE_MB) ? DEFAULT_MEMORY_SIZE_MB : undefined;
  const variantsAt = machineOr(defaultSize);
  cases.push({ name: `gateway, ${toggledName}|${variantsAt}`, memoryMb: defaultSize, run: () => start(deployedEntry, gatewayEvent(), defaultSize, toggled), expect: 200 });
  cases.push({ name: `gateway, first request fails (500)|${variantsAt}`, memoryMb: defaultSize, run: failingFirst(nodeOptions, defaultSize), expect: 500 });
  cases.push({ name: `gateway, ${toggledName}, first request fails (500)|${variantsAt}`, memoryMb: defaultSize, run: failingFirst(toggled, defaultSize), expect: 500 });

  setLatency(bench, options.latencyMs);
  const total = new Samples();
  const load = new Samples();
  const first = new Samples();
  const cpu = new Samples();
  for (let run = 0; run < options.runs; run += 1) {
    for (const { name, run: once, expect } of cases) {
      const timings = await once();
      if (timings.statusCode !== expect) throw new Error(`${name}: the first request answered ${timings.statusCode}, expected ${expect}`);
      total.add(name, timings.loadMs + timings.firstRequestMs);
      load.add(name, timings.loadMs);
      first.add(name, timings.firstRequestMs);
      cpu.add(name, timings.cpuMs);
    }
  }
  setLatency(bench, 0);
  if (process.env.BENCH_PROFILE) {
    await start(deployedEntry, gatewayEvent(), undefined, nodeOptions, ['--cpu-prof', '--cpu-prof-interval=100', `--cpu-prof-dir=${PROFILE_DIR}`, '--cpu-prof-name=cold-start.cpuprofile']);
  }

  console.log(`\nCold start: a fresh process loads the bundle and serves its first request, ${options.latencyMs} ms on every remote request`);
  console.log(`  (median of ${options.runs} interleaved runs; NODE_OPTIONS as the template sets them: "${nodeOptions}"; Node's own boot is not counted)`);
  const figures: ColdFigures = new Map();
  table([
    ['handler', 'CPU share of', 'load', 'first request', 'cold start', 'ratio to bare', 'process CPU'],
    ...cases.map(({ name, memoryMb }) => {
      const [path = '', size = ''] = name.split('|');
      const bare = total.median(`bare|${size}`);
      if (path === 'gateway' || path === 'bare') {
        const entry = figures.get(size) ?? { bare: 0, gateway: 0 };
        entry[path] = total.median(name);
        figures.set(size, entry);
      }
      return [path === 'bare' ? 'bare TransferContact' : path, memoryMb === undefined ? 'machine' : `${memoryMb} MB`, ms(load.median(name)), ms(first.median(name)), ms(total.median(name)), times(total.median(name) / bare), ms(cpu.median(name))];
    }),
  ]);
  return figures;
}

type PathName = 'bare' | 'warm' | 'cold cache';
const PATH_LABEL: Record<PathName, string> = { bare: 'bare TransferContact', warm: 'gateway, warm', 'cold cache': 'gateway, cold cache' };

/** Requests for the three paths: the bare call, a warm transfer, and one whose flow and queue were never seen. */
function requestPaths(connect: ConnectSimulator): Record<PathName, () => WorkerRequest> {
  const warmFlow = connect.addFlow({ Id: randomUUID(), Name: 'bench inbound', Type: 'CONTACT_FLOW', State: 'ACTIVE', Status: 'PUBLISHED' }).Id;
  const warmQueue = connect.addQueue({ Id: randomUUID(), Name: 'bench queue', Status: 'ENABLED' }).Id;
  const newContact = (): string => connect.addContact({ Id: randomUUID(), Channel: 'TASK' }).Id;
  return {
    bare: () => ({ op: 'bare', body: { InstanceId: connect.instanceId, ContactId: newContact(), ContactFlowId: warmFlow, QueueId: warmQueue, ClientToken: randomUUID() } }),
    warm: () => ({ op: 'gateway', body: { ContactId: newContact(), ContactFlowId: warmFlow, QueueId: warmQueue } }),
    // A warm process, but a flow and queue it has never described: its metadata cache cannot help.
    'cold cache': () => ({
      op: 'gateway',
      body: {
        ContactId: newContact(),
        ContactFlowId: connect.addFlow({ Id: randomUUID(), Name: 'bench cold cache', Type: 'CONTACT_FLOW', State: 'ACTIVE', Status: 'PUBLISHED' }).Id,
        QueueId: connect.addQueue({ Id: randomUUID(), Name: 'bench cold cache', Status: 'ENABLED' }).Id,
      },
    }),
  };
}

/** Unmeasured first rounds: connections, JIT and the warm flow/queue cache. */
async function warmUp(worker: ChildProcess, paths: Record<PathName, () => WorkerRequest>): Promise<void> {
  for (let round = 0; round < 3; round += 1) for (const request of Object.values(paths)) await timed(worker, request());
}

const setLatency = ({ connect, dynamodb }: Bench, latencyMs: number): void => {
  connect.setLatency(latencyMs);
  dynamodb.setLatency(latencyMs);
};

/** At the machine's full speed: the gateway against a bare handler at 0, L and 4 L, to separate structure from CPU. */
async function latencyFigures(bench: Bench, worker: ChildProcess): Promise<void> {
  const { options, connect, dynamodb } = bench;
  const paths = requestPaths(connect);
  const names = Object.keys(paths) as PathName[];
  await warmUp(worker, paths);

  const measure = async (latencyMs: number) => {
    setLatency(bench, latencyMs);
    const timings = new Samples();
    const cpu = new Samples();
    const serviceCpu = new Samples();
    const calls = new Map<string, { connect: number; dynamodb: number }>(names.map((name) => [name, { connect: 0, dynamodb: 0 }]));
    for (let run = 0; run < options.runs; run += 1) {
      for (const name of names) {
        const connectBefore = connect.callCount();
        const dynamoBefore = dynamodb.requestCount();
        const request = paths[name]();
        const parentBefore = process.cpuUsage();
        const { ms: elapsed, cpuMs } = await timed(worker, request);
        const parent = process.cpuUsage(parentBefore);
        timings.add(name, elapsed);
        cpu.add(name, cpuMs);
        serviceCpu.add(name, (parent.user + parent.system) / 1000);
        const counted = calls.get(name);
        if (counted) {
          counted.connect += connect.callCount() - connectBefore;
          counted.dynamodb += dynamodb.requestCount() - dynamoBefore;
        }
      }
    }
    setLatency(bench, 0);
    return { timings, cpu, serviceCpu, calls };
  };
  const without = await measure(0);
  // At four times the latency the fixed CPU cost weighs four times less: the stage count converges on the structure.
  for (const latencyMs of [options.latencyMs, 4 * options.latencyMs]) {
    const withLatency = await measure(latencyMs);
    const bareMedian = withLatency.timings.median('bare');
    console.log(`\nWarm transfer latency at the machine's full speed, ${latencyMs} ms on every Connect and DynamoDB request (median of ${options.runs} interleaved runs)`);
    console.log(`  sequential stages = (median at ${latencyMs} ms - median at 0 ms) / ${latencyMs} ms: how many round trips wait on one another`);
    console.log("  function CPU = the function process's own CPU time per transfer (signing, hashing, JSON, logs, metrics)");
    console.log('  service CPU = the CPU time the Connect simulator and the embedded DynamoDB (this process) spent answering it');
    table([
      ['path', `median at ${latencyMs} ms`, 'ratio to bare', 'median at 0 ms', 'sequential stages', 'function CPU', 'service CPU', 'Connect calls', 'DynamoDB requests'],
      ...names.map((name) => {
        const counted = withLatency.calls.get(name) ?? { connect: 0, dynamodb: 0 };
        const slow = withLatency.timings.median(name);
        const fast = without.timings.median(name);
        return [
          PATH_LABEL[name],
          ms(slow),
          times(slow / bareMedian),
          ms(fast),
          ((slow - fast) / latencyMs).toFixed(2),
          ms(withLatency.cpu.median(name)),
          ms(withLatency.serviceCpu.median(name)),
          (counted.connect / options.runs).toFixed(1),
          (counted.dynamodb / options.runs).toFixed(1),
        ];
      }),
    ]);
  }
}

/**
 * Contract section 11: the check and the transfer cannot be atomic. The window is the time from Connect answering the
 * DescribeContact whose QueueInfo and AgentInfo the conditions were judged on to Connect receiving the TransferContact
 * of the same attempt, read from the simulator's own clock: while it lasts an agent can accept the contact. Measured
 * against the rules' DescribeContact (what the window would be without the second look) and against the one the
 * adapter makes right before the call (what it is).
 */
async function conditionWindowFigures(bench: Bench, worker: ChildProcess): Promise<void> {
  const { options, connect } = bench;
  const flow = connect.addFlow({ Id: randomUUID(), Name: 'bench conditional', Type: 'CONTACT_FLOW', State: 'ACTIVE', Status: 'PUBLISHED' }).Id;
  const queue = connect.addQueue({ Id: randomUUID(), Name: 'bench conditional', Status: 'ENABLED' }).Id;
  const request = (): WorkerRequest => {
    const contact = connect.addContact({ Id: randomUUID(), Channel: 'TASK', QueueId: queue, EnqueueTimestamp: new Date(Date.now() - 3_600_000).toISOString() }).Id;
    return { op: 'gateway', body: { ContactId: contact, ContactFlowId: flow, QueueId: queue, Conditions: { InQueue: queue, NotWithAgent: true, QueuedForSeconds: 1800 } } };
  };
  console.log(`
Condition window (contract section 11): Connect's DescribeContact answer to its receipt of the TransferContact, one attempt, ${options.runs} conditional transfers per latency`);
  console.log('  (the simulator\'s clock; in AWS add one network round trip between the function and Connect)');
  const rows: (string | number)[][] = [['injected latency', 'judged on', 'median', 'maximum', 'DescribeContact calls per transfer']];
  for (const latencyMs of [0, options.latencyMs]) {
    setLatency(bench, latencyMs);
    const first: number[] = [];
    const last: number[] = [];
    let describes = 0;
    for (let run = 0; run < options.runs; run += 1) {
      const sent = request();
      await timed(worker, sent);
      const contactId = String((sent as { body: Record<string, unknown> }).body.ContactId);
      const calls = connect.calls().filter((call) => call.input.ContactId === contactId);
      const transfer = calls.find((call) => call.operation === 'TransferContact');
      const looks = calls.filter((call) => call.operation === 'DescribeContact' && transfer !== undefined && call.at <= transfer.receivedAt);
      if (!transfer || looks.length === 0) throw new Error(`conditional transfer of ${contactId} was not made`);
      describes += looks.length;
      first.push(transfer.receivedAt - Math.min(...looks.map((call) => call.at)));
      last.push(transfer.receivedAt - Math.max(...looks.map((call) => call.at)));
    }
    rows.push([ms(latencyMs), "the rules' DescribeContact", ms(median(first)), ms(Math.max(...first)), (describes / options.runs).toFixed(1)]);
    rows.push([ms(latencyMs), 'the second look, right before', ms(median(last)), ms(Math.max(...last)), '']);
  }
  setLatency(bench, 0);
  table(rows);
}

/** Warm medians by memory size ('machine' = no CPU cap) and path, at the injected latency. */
type WarmFigures = Map<string, Record<PathName, number>>;

/** The same three paths at L under each memory size's CPU share, one worker per size, all interleaved. */
async function latencyByMemorySize(bench: Bench, machine: ChildProcess, capped: ReadonlyMap<number, ChildProcess>): Promise<WarmFigures> {
  const { options, connect } = bench;
  const paths = requestPaths(connect);
  const names = Object.keys(paths) as PathName[];
  const workers: [string, ChildProcess][] = [['machine', machine], ...[...capped].map(([memoryMb, worker]): [string, ChildProcess] => [`${memoryMb} MB`, worker])];
  for (const [, worker] of workers) await warmUp(worker, paths);
  setLatency(bench, options.latencyMs);
  const timings = new Samples();
  const cpu = new Samples();
  for (let run = 0; run < options.runs; run += 1) {
    for (const [size, worker] of workers) {
      for (const name of names) {
        const { ms: elapsed, cpuMs } = await timed(worker, paths[name]());
        timings.add(`${name}|${size}`, elapsed);
        cpu.add(`${name}|${size}`, cpuMs);
      }
    }
  }
  setLatency(bench, 0);
  console.log(`\nWarm transfer latency by memory size, ${options.latencyMs} ms on every remote request (median of ${options.runs} interleaved runs; the function's process alone is capped)`);
  table([
    ['CPU share of', ...names.map((name) => PATH_LABEL[name]), 'warm ratio', 'cold cache ratio', 'function CPU, warm'],
    ...workers.map(([size]) => {
      const bare = timings.median(`bare|${size}`);
      return [
        size,
        ...names.map((name) => ms(timings.median(`${name}|${size}`))),
        times(timings.median(`warm|${size}`) / bare),
        times(timings.median(`cold cache|${size}`) / bare),
        ms(cpu.median(`warm|${size}`)),
      ];
    }),
  ]);
  return new Map(workers.map(([size]) => [size, { bare: timings.median(`bare|${size}`), warm: timings.median(`warm|${size}`), 'cold cache': timings.median(`cold cache|${size}`) }]));
}

/** docs/performance.md's table: latency and cost by memory size, from the two runs above. */
function memorySizeSummary({ options }: Bench, warm: WarmFigures, cold: ColdFigures): void {
  if (options.memorySizes.length === 0) return;
  console.log(`\nBy memory size (warm at ${options.latencyMs} ms per remote request; cost of 1,000 warm transfers on arm64: billed ms x GB x $${LAMBDA_ARM_PRICE.perGbSecond}/GB-s + $0.20 per million requests)`);
  table([
    ['memory', 'vCPU share', 'warm', 'warm / bare', 'cold start', 'cold start / bare', 'billed warm', 'cost per 1,000 transfers'],
    ...options.memorySizes.map((memoryMb) => {
      const size = `${memoryMb} MB`;
      const warmAt = warm.get(size);
      const coldAt = cold.get(size);
      const warmMs = warmAt?.warm ?? 0;
      return [
        `${size}${memoryMb === DEFAULT_MEMORY_SIZE_MB ? ' (default)' : ''}`,
        (memoryMb / 1769).toFixed(2),
        ms(warmMs),
        times(warmMs / (warmAt?.bare ?? 1)),
        ms(coldAt?.gateway ?? 0),
        times((coldAt?.gateway ?? 0) / (coldAt?.bare ?? 1)),
        `${Math.ceil(warmMs)} ms`,
        dollars(costPerThousand(warmMs, memoryMb)),
      ];
    }),
  ]);
}

/**
 * Memory of the worker (one warm container) after 10, 1,000 and 2,000 warm transfers. The first thousand includes
 * warm-up (optimised code, connection pools); growth over the second thousand is what a leak would show.
 */
async function memoryFigures(worker: ChildProcess, connect: ConnectSimulator): Promise<void> {
  const flowId = connect.addFlow({ Id: randomUUID(), Name: 'bench memory', Type: 'CONTACT_FLOW', State: 'ACTIVE', Status: 'PUBLISHED' }).Id;
  const queueId = connect.addQueue({ Id: randomUUID(), Name: 'bench memory', Status: 'ENABLED' }).Id;
  const checkpoints = [10, 1000, 2000];
  const samples: { transfers: number; heapUsedBytes: number; rssBytes: number }[] = [];
  for (let done = 1; done <= Math.max(...checkpoints); done += 1) {
    await timed(worker, { op: 'gateway', body: { ContactId: connect.addContact({ Id: randomUUID(), Channel: 'TASK' }).Id, ContactFlowId: flowId, QueueId: queueId } });
    if (checkpoints.includes(done)) {
      const reply = await ask(worker, { op: 'memory' });
      if ('heapUsedBytes' in reply) samples.push({ transfers: done, ...reply });
    }
  }
  const growth = (from: number, to: number): (string | number)[] => {
    const [first, last] = [samples.find((sample) => sample.transfers === from), samples.find((sample) => sample.transfers === to)];
    return first && last ? [`growth ${from} -> ${to}`, kb(last.heapUsedBytes - first.heapUsedBytes), kb(last.rssBytes - first.rssBytes)] : [];
  };
  console.log('\nMemory of one warm container (after a full GC)');
  table([
    ['after', 'heap used', 'resident'],
    ...samples.map((sample) => [`${sample.transfers} transfers`, kb(sample.heapUsedBytes), kb(sample.rssBytes)]),
    growth(10, 1000),
    growth(1000, 2000),
  ]);
}

// The first option may name another benchmark (`--burst ...`): dispatch on it here, before the figures' options.
const benchmarks: Record<string, (argv: readonly string[]) => Promise<void>> = {
  '--burst': (argv) => import('./burst').then(({ burstBenchmark }) => burstBenchmark(argv)),
  '--compare': (argv) => import('./compare').then(({ compareBenchmark }) => compareBenchmark(argv)),
  '--pacer-model': (argv) => import('./pacer-model').then(({ pacerModelBenchmark }) => pacerModelBenchmark(argv)),
};
const [first = '', ...rest] = process.argv.slice(2);
const chosen = benchmarks[first];
(chosen ? chosen(rest) : main(process.argv.slice(2))).catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
