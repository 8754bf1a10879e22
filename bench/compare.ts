/**
 * `npm run bench -- --compare <git-ref> [--runs N] [--latency MS] [--burst N] [--burst-rounds N]`: this tree's
 * deployed bundle next to the one <git-ref> deploys, in one run, so that a shared machine's load falls on both alike.
 * The ref's tree is extracted with `git archive` into a temporary directory (this tree's node_modules stands in for
 * its own) and each tree synthesizes its own function (bench/synthesize.ts). Then, alternating which goes first:
 * - cold import: `node -e require(bundle)` for each, above `node -e 0`;
 * - cold start: a fresh process loads each bundle and serves one request, under the default memory size's CPU share;
 * - warm: one worker per bundle under that share, one transfer each in turn, L ms on every remote request;
 * - burst: each tree's own `npm run bench -- --burst N`, both at once (the drain is paced by Connect's quota, not CPU).
 * It prints the medians, their ratio (this tree / the ref), and the ratio over each half of the runs, which should
 * agree when the runs are enough. It asserts nothing.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_MEMORY_SIZE_MB } from '../lib/contact-transfer-gateway';
import { startEmbeddedDynamoDb } from '../local/embedded-dynamodb';
import { apiGatewayProxyEvent } from '../local/lambda-events';
import { startConnectSimulator, UNLIMITED } from '../simulator/connect-simulator';
import { benchEnvironment, coldStart, coldStartScript, createBenchTables, findLambdaCpu, median, ms, ROOT, Samples, table, timed, timeNode, times, WorkerPool } from './measure';

interface Build {
  readonly name: string;
  readonly tree: string;
  readonly entry: string;
  readonly env: Record<string, string>;
  readonly nodeOptions: string;
}

/** Samples per build and figure, in run order, so that each half of the runs can be compared too. */
class Paired {
  private readonly samples = new Samples();
  add(figure: string, build: string, value: number): void {
    this.samples.add(`${figure}|${build}`, value);
  }
  row(figure: string, [mine, theirs]: readonly [Build, Build], format: (value: number) => string = ms): (string | number)[] {
    const of = (build: Build) => this.samples.values(`${figure}|${build.name}`);
    const half = (values: readonly number[], second: boolean) => values.slice(second ? Math.floor(values.length / 2) : 0, second ? undefined : Math.floor(values.length / 2));
    const ratio = (second?: boolean) => {
      const [a, b] = second === undefined ? [of(mine), of(theirs)] : [half(of(mine), second), half(of(theirs), second)];
      return median(a) / median(b);
    };
    return [figure, format(median(of(mine))), format(median(of(theirs))), times(ratio()), `${times(ratio(false))} / ${times(ratio(true))}`];
  }
}

export async function compareBenchmark(argv: readonly string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      runs: { type: 'string', default: '31' },
      latency: { type: 'string', default: '25' },
      burst: { type: 'string', default: '200' },
      'burst-rounds': { type: 'string', default: '2' },
    },
  });
  const [ref] = positionals;
  const runs = Number(values.runs);
  const latencyMs = Number(values.latency);
  const burst = Number(values.burst);
  const burstRounds = Number(values['burst-rounds']);
  if (!ref || !(runs >= 2) || !(latencyMs >= 0) || !(burst >= 0) || !(burstRounds >= 1)) {
    throw new Error('usage: npm run bench -- --compare <git-ref> [--runs N, at least 2] [--latency MS] [--burst N, 0 for none] [--burst-rounds N]');
  }
  const lambdaCpu = await findLambdaCpu();
  const memoryMb = lambdaCpu ? DEFAULT_MEMORY_SIZE_MB : undefined;
  const workdir = mkdtempSync(join(tmpdir(), 'ctg-compare-'));
  const [connect, dynamodb] = await Promise.all([startConnectSimulator({ quotas: UNLIMITED }), startEmbeddedDynamoDb()]);
  const workers = new WorkerPool(lambdaCpu);
  try {
    const theirTree = extractTree(ref, join(workdir, 'tree'));
    const commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', ref], { encoding: 'utf8' }).trim();
    const label = ref.startsWith(commit) ? ref : `${ref} (${commit})`;
    const buildOf = (name: string, tree: string): Build => {
      const outdir = join(workdir, name === label ? 'theirs' : 'mine');
      execFileSync(process.execPath, ['--import', 'tsx', join(__dirname, 'synthesize.ts'), tree, connect.instanceArn, outdir], { stdio: ['ignore', 'ignore', 'inherit'] });
      const { NODE_OPTIONS: nodeOptions = '', ...fromTemplate } = JSON.parse(readFileSync(join(outdir, 'environment.json'), 'utf8')) as Record<string, string>;
      return { name, tree, entry: join(outdir, 'index.js'), env: benchEnvironment(connect, dynamodb.url, fromTemplate), nodeOptions };
    };
    const builds = [buildOf('this tree', ROOT), buildOf(label, theirTree)] as const;
    await createBenchTables(dynamodb.url, builds[0].env);
    console.log(
      `Side by side: this tree against ${label}, node ${process.version}, ${runs} interleaved runs, ${latencyMs} ms on every remote request, ` +
        `CPU share of ${memoryMb === undefined ? 'the whole machine (lambda-cpu unavailable)' : `${memoryMb} MB`}`,
    );
    /** Each run in turn starts with the other build, so neither always goes first. */
    const inTurn = (run: number): readonly Build[] => (run % 2 ? [builds[1], builds[0]] : builds);

    const flowId = connect.addFlow({ Id: randomUUID(), Name: 'compare', Type: 'CONTACT_FLOW', State: 'ACTIVE', Status: 'PUBLISHED' }).Id;
    const queueId = connect.addQueue({ Id: randomUUID(), Name: 'compare', Status: 'ENABLED' }).Id;
    const body = () => ({ ContactId: connect.addContact({ Id: randomUUID(), Channel: 'TASK' }).Id, ContactFlowId: flowId, QueueId: queueId });
    const paired = new Paired();

    const importEnv = (build: Build) => ({ ...process.env, ...build.env, NODE_PATH: join(ROOT, 'node_modules') });
    const coldStarts = { script: await coldStartScript(workdir), lambdaCpu };
    const warm = new Map<string, Awaited<ReturnType<WorkerPool['start']>>>();
    for (const build of builds) warm.set(build.name, await workers.start(build.entry, build.env, memoryMb));
    for (let round = 0; round < 5; round += 1) for (const build of builds) await timed(warm.get(build.name)!, { op: 'gateway', body: body() });

    connect.setLatency(latencyMs);
    dynamodb.setLatency(latencyMs);
    for (let run = 0; run < runs; run += 1) {
      const floor = await timeNode('0', importEnv(builds[0]));
      for (const build of inTurn(run)) paired.add('cold import above node -e 0', build.name, (await timeNode(`require(${JSON.stringify(build.entry)})`, importEnv(build))) - floor);
      for (const build of inTurn(run)) {
        const event = apiGatewayProxyEvent({ body: JSON.stringify(body()) });
        const timings = await coldStart({ ...coldStarts, env: build.env }, build.entry, event, memoryMb, build.nodeOptions);
        if (timings.statusCode !== 200) throw new Error(`${build.name}: the first request answered ${timings.statusCode}`);
        paired.add('cold start (load and first request)', build.name, timings.loadMs + timings.firstRequestMs);
      }
      for (const build of inTurn(run)) {
        const [connectBefore, dynamoBefore] = [connect.callCount(), dynamodb.requestCount()];
        const { ms: elapsed, cpuMs } = await timed(warm.get(build.name)!, { op: 'gateway', body: body() });
        paired.add('warm transfer', build.name, elapsed);
        paired.add('warm: function CPU', build.name, cpuMs);
        paired.add('warm: Connect calls', build.name, connect.callCount() - connectBefore);
        paired.add('warm: DynamoDB requests', build.name, dynamodb.requestCount() - dynamoBefore);
      }
    }
    connect.setLatency(0);
    dynamodb.setLatency(0);
    await workers.stop();

    const header = ['figure', 'this tree', label, 'ratio', 'ratio, 1st / 2nd half of the runs'];
    const count = (value: number) => value.toFixed(1);
    const rows = [
      paired.row('warm transfer', builds),
      paired.row('warm: function CPU', builds),
      paired.row('warm: Connect calls', builds, count),
      paired.row('warm: DynamoDB requests', builds, count),
      paired.row('cold start (load and first request)', builds),
      paired.row('cold import above node -e 0', builds),
    ];
    table([header, ...rows]);

    if (burst > 0) {
      console.log(`\nBurst of ${burst} events through the buffered door, each tree's own burst bench, both at once (drain against the floor (N - 5) / 2 s)`);
      const bursts = new Paired();
      for (let round = 0; round < burstRounds; round += 1) {
        const drains = await Promise.all(builds.map((build) => burstDrain(build.tree, burst)));
        builds.forEach((build, index) => {
          const { drain, delivery } = drains[index] ?? { drain: Number.NaN, delivery: '' };
          bursts.add('burst drain / floor', build.name, drain);
          console.log(`  round ${round + 1}, ${build.name}: ${times(drain)}; ${delivery}`);
        });
      }
      table([['figure', 'this tree', label, 'ratio', 'ratio, 1st / 2nd half of the rounds'], bursts.row('burst drain / floor', builds, times)]);
    }
  } finally {
    await workers.stop();
    rmSync(workdir, { recursive: true, force: true });
    await Promise.all([connect.close(), dynamodb.close()]);
  }
}

/** The ref's files as committed, with this tree's node_modules (the lockfiles must agree for that to be fair). */
function extractTree(ref: string, into: string): string {
  mkdirSync(into, { recursive: true });
  const archive = execFileSync('git', ['-C', ROOT, 'archive', '--format=tar', ref], { maxBuffer: 1 << 30 });
  execFileSync('tar', ['-x', '-C', into], { input: archive });
  symlinkSync(join(ROOT, 'node_modules'), join(into, 'node_modules'));
  return into;
}

/**
 * Runs `npm run bench -- --burst N` in `tree` until it has reported the buffered wiring, and reads that wiring's drain
 * against its floor and its delivery line. The alternative wiring it runs next is of no interest here, so the bench
 * is stopped once the buffered report is complete (its delivery line is the report's last).
 */
async function burstDrain(tree: string, events: number): Promise<{ drain: number; delivery: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(tree, 'bench', 'run.ts'), '--burst', String(events)], { cwd: tree, stdio: ['ignore', 'pipe', 'ignore'] });
  let output = '';
  const reported = () => /containers \d+[^\n]*\n/.exec(output);
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (reported()) child.kill();
  });
  await new Promise((resolve) => child.once('close', resolve));
  const drain = /drain = ([\d.]+) x floor/.exec(output);
  const delivery = reported();
  if (!drain || !delivery) throw new Error(`the burst bench in ${tree} stopped before it reported the buffered wiring:\n${output}`);
  const transferred = /transferred\s+(\d+) of (\d+)/.exec(output);
  if (transferred?.[1] !== transferred?.[2]) throw new Error(`the burst bench in ${tree} transferred ${transferred?.[1]} of ${transferred?.[2]}`);
  return { drain: Number(drain[1]), delivery: delivery[0].trim() };
}
