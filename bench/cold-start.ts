/**
 * One cold start as Lambda has it, in a fresh process: load the bundle given as the first argument, serve the
 * event in BENCH_EVENT once, write the timings as one JSON line to file descriptor 3 (stdout carries the
 * function's own log lines). run.ts bundles this file into plain JavaScript, so that nothing but Node itself runs
 * before the bundle: a TypeScript loader would spend the very CPU quota being measured.
 */
import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { lambdaContext } from '../local/lambda-events';

export interface ColdStartTimings {
  /** From the process's start to the first line of this script: Node's own boot, the same for every function. */
  readonly bootMs: number;
  /** Loading the bundle: what Lambda reports in Init Duration besides the runtime's own start. */
  readonly loadMs: number;
  readonly firstRequestMs: number;
  /** The process's CPU time for loading and serving. */
  readonly cpuMs: number;
  /** The HTTP status the handler answered, or 200 for a handler that returns Connect's output. */
  readonly statusCode: number;
}

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

async function coldStart(): Promise<ColdStartTimings> {
  const bootMs = performance.now();
  const cpuBefore = process.cpuUsage();
  const { handler } = createRequire(__filename)(process.argv[2] ?? '') as { handler: Handler };
  const loaded = performance.now();
  const answer = await handler(JSON.parse(process.env.BENCH_EVENT ?? '{}'), lambdaContext());
  const served = performance.now();
  const cpu = process.cpuUsage(cpuBefore);
  const statusCode = typeof answer === 'object' && answer !== null && 'statusCode' in answer ? Number(answer.statusCode) : 200;
  return { bootMs, loadMs: loaded - bootMs, firstRequestMs: served - loaded, cpuMs: (cpu.user + cpu.system) / 1000, statusCode };
}

coldStart().then(
  (timings) => writeSync(3, `${JSON.stringify(timings)}\n`),
  (error: unknown) => {
    writeSync(3, `${JSON.stringify({ error: error instanceof Error ? error.message : String(error) })}\n`);
    process.exitCode = 1;
  },
);
