/**
 * What `npm run bench` and its side-by-side comparison (compare.ts) share: medians and tables, the CPU-share tool,
 * the function's environment against the local services, the warm worker and the cold-start process.
 */
import { execFile, fork, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { build } from 'esbuild';
import { createGatewayTables } from '../local/embedded-dynamodb';
import { LOCAL_API_ENVIRONMENT } from '../local/lambda-events';
import { CONNECT_DEFAULT_QUOTAS } from '../simulator/connect-simulator';
import type { ConnectSimulator } from '../simulator/connect-simulator';
import type { ColdStartTimings } from './cold-start';
import type { WorkerReply, WorkerRequest } from './gateway-worker';

export const ROOT = join(__dirname, '..');
export const PROFILE_DIR = '/tmp/prof';
/** Where lambda-cpu makes its cgroups (v1 cpu controller). */
const CGROUP_CPU = '/sys/fs/cgroup/cpu';

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};
export const ms = (value: number): string => `${value.toFixed(1)} ms`;
export const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;
export const times = (value: number): string => `${value.toFixed(2)} x`;
export const table = (rows: (string | number)[][]): void => {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => String(row[column]).length))) ?? [];
  for (const row of rows) console.log(`  ${row.map((cell, column) => String(cell).padEnd(widths[column] ?? 0)).join('  ')}`);
};
/** Samples by name, in the order the names were first seen. */
export class Samples {
  private readonly byName = new Map<string, number[]>();
  add(name: string, value: number): void {
    const list = this.byName.get(name) ?? [];
    list.push(value);
    this.byName.set(name, list);
  }
  /** In the order they were added. */
  values(name: string): readonly number[] {
    return this.byName.get(name) ?? [];
  }
  median(name: string): number {
    return median(this.values(name));
  }
}

/** Connect's default TransferContact quota, as the simulator enforces it. */
export const TRANSFER_QUOTA = CONNECT_DEFAULT_QUOTAS.TransferContact ?? { rate: 2, burst: 5 };

/** The gap before a random caller's next call, at `perSecond` on average: exponential, as a Poisson process's. */
export const poissonGapMs = (perSecond: number, random: number): number => (-Math.log(1 - random) * 1000) / perSecond;

/**
 * `lambda-cpu` puts a process under the CPU share Lambda gives a memory size (cgroup v1 CPU bandwidth, root only).
 * Undefined when it is missing or cannot work here: the bench then measures at the machine's full speed only.
 */
export async function findLambdaCpu(): Promise<string | undefined> {
  const candidates = [process.env.LAMBDA_CPU, join(ROOT, 'bench', 'lambda-cpu')];
  for (const candidate of candidates) {
    if (!candidate || !existsSync(candidate)) continue;
    try {
      // A throwaway command under a share: the tool makes its group, runs it and removes the group again.
      await promisify(execFile)(candidate, ['1769', '--', 'true']);
      return candidate;
    } catch {
      // Present but unusable (not root, no cgroup v1 cpu controller).
    }
  }
  return undefined;
}

/** The template's environment pointed at the local services, with the bench's tables and a pacer that never waits. */
export function benchEnvironment(connect: ConnectSimulator, dynamodbUrl: string, fromTemplate: Readonly<Record<string, string>>): Record<string, string> {
  return {
    ...fromTemplate,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_ENDPOINT_URL_CONNECT: connect.url,
    AWS_ENDPOINT_URL_DYNAMODB: dynamodbUrl,
    IDEMPOTENCY_TABLE_NAME: 'bench-idempotency',
    LEDGER_TABLE_NAME: 'bench-ledger',
    // The REST API is a reference in the template; the worker's events stand in for it.
    ...LOCAL_API_ENVIRONMENT,
    // A pacing slot is still reserved with every transfer (its DynamoDB request is counted), but never waited for.
    TRANSFER_RATE_PER_SECOND: '1000',
    TRANSFER_BURST: '100',
  };
}

export async function createBenchTables(dynamodbUrl: string, env: Readonly<Record<string, string>>): Promise<void> {
  const client = new DynamoDBClient({ endpoint: dynamodbUrl, region: 'us-east-1', credentials: { accessKeyId: 'b', secretAccessKey: 'b' } });
  await createGatewayTables(client, { idempotency: env.IDEMPOTENCY_TABLE_NAME ?? '', ledger: env.LEDGER_TABLE_NAME ?? '' });
}

/** Sends one request to the worker and waits for its answer. */
export function ask(worker: ChildProcess, request: WorkerRequest): Promise<WorkerReply> {
  return new Promise((resolve, reject) => {
    worker.once('message', (reply: WorkerReply) => ('error' in reply ? reject(new Error(reply.error)) : resolve(reply)));
    worker.send(request);
  });
}

export async function timed(worker: ChildProcess, request: WorkerRequest): Promise<{ ms: number; cpuMs: number }> {
  const reply = await ask(worker, request);
  if (!('ms' in reply)) throw new Error('the worker did not time the request');
  return reply;
}

/**
 * Warm workers (gateway-worker.ts, one loaded bundle each), each optionally under a memory size's CPU share; `stop`
 * lets them exit and removes the groups this pool made.
 */
export class WorkerPool {
  private readonly workers: ChildProcess[] = [];
  private readonly cpuGroups: string[] = [];

  constructor(private readonly lambdaCpu: string | undefined) {}

  async start(entry: string, env: Readonly<Record<string, string>>, memoryMb: number | undefined, execArgv: readonly string[] = []): Promise<ChildProcess> {
    const worker = fork(join(__dirname, 'gateway-worker.ts'), {
      execArgv: ['--expose-gc', '--import', 'tsx', ...execArgv],
      env: { ...process.env, ...env, BENCH_ENTRY: entry },
      // The template's log level is measured as deployed; the lines themselves are not needed.
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    this.workers.push(worker);
    await ask(worker, { op: 'memory' });
    if (memoryMb !== undefined && this.lambdaCpu && worker.pid !== undefined) {
      const placing = execFile(this.lambdaCpu, [String(memoryMb), '--pid', String(worker.pid)]);
      await new Promise((resolve, reject) => placing.once('exit', (code) => (code === 0 ? resolve(code) : reject(new Error(`lambda-cpu --pid exited with ${String(code)}`)))));
      // The tool names the group after its own process id and leaves it for the worker; it is removed in stop().
      this.cpuGroups.push(join(CGROUP_CPU, `lambda-cpu-${memoryMb}-${String(placing.pid)}`));
    }
    return worker;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.workers.map((worker) => {
        // Closing the channel lets a worker exit on its own (and write a profile when BENCH_PROFILE asks for one).
        const exited = new Promise((resolve) => worker.once('exit', resolve));
        if (worker.connected) worker.disconnect();
        return worker.exitCode === null ? exited : undefined;
      }),
    );
    // Only the groups this run made (`lambda-cpu --clean` would also remove other people's empty ones).
    for (const group of this.cpuGroups) {
      try {
        // rmdir, not rm: a cgroup's control files cannot be deleted, only the emptied group itself.
        rmdirSync(group);
      } catch {
        // Already gone, or a worker still in it: lambda-cpu --clean removes it later.
      }
    }
  }
}

/** cold-start.ts bundled into plain JavaScript in `workdir`, so that nothing but Node runs before the bundle. */
export async function coldStartScript(workdir: string): Promise<string> {
  const script = join(workdir, 'cold-start.js');
  await build({ entryPoints: [join(__dirname, 'cold-start.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: script, logLevel: 'silent' });
  return script;
}

export interface ColdStart {
  readonly script: string;
  readonly env: Readonly<Record<string, string>>;
  readonly lambdaCpu: string | undefined;
}

/** One fresh process loads `entry` and serves `event` once, under a memory size's CPU share when one is given. */
export async function coldStart(
  { script, env, lambdaCpu }: ColdStart,
  entry: string,
  event: unknown,
  memoryMb: number | undefined,
  nodeOptions: string,
  extraArgs: readonly string[] = [],
): Promise<ColdStartTimings> {
  const command = [process.execPath, ...extraArgs, script, entry];
  const [file = '', ...args] = memoryMb !== undefined && lambdaCpu ? [lambdaCpu, String(memoryMb), '--', ...command] : command;
  const child = spawn(file, args, {
    env: { ...process.env, ...env, NODE_OPTIONS: nodeOptions, BENCH_EVENT: JSON.stringify(event) },
    // The function's log lines are written as in Lambda (to a pipe) but not kept, unless the process fails.
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  let output = '';
  let logs = '';
  child.stdout?.on('data', (chunk: Buffer) => (logs += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (logs += chunk.toString()));
  child.stdio[3]?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise((resolve) => child.once('close', resolve));
  const timings = JSON.parse(output || '{"error":"no output"}') as ColdStartTimings | { error: string };
  if ('error' in timings) throw new Error(`cold start of ${entry} failed: ${timings.error}\n${logs}`);
  return timings;
}

/** Milliseconds from spawning `node -e script` to its exit: `0` for Node alone, `require(...)` for a cold import. */
export async function timeNode(script: string, env: NodeJS.ProcessEnv): Promise<number> {
  const started = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`node -e ${script} exited with ${String(code)}`))));
  });
  return Number(process.hrtime.bigint() - started) / 1e6;
}
