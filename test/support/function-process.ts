import { fork } from 'node:child_process';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Invocation, InvocationOutcome } from './lambda-child';

/**
 * The parent's side of lambda-child.ts: a bundle loaded in a process of its own, with the environment Lambda would
 * give it. The process's environment is the function's configuration, as in Lambda, so the test's own process.env
 * is left alone and any number of functions run side by side.
 */
export interface FunctionProcess {
  invoke(event: unknown, remainingMs: number): Promise<InvocationOutcome>;
  kill(): Promise<void>;
}

/** Builds the runner into `outdir` (once per suite: it runs as plain JavaScript in each child). */
export async function buildFunctionRunner(outdir: string): Promise<string> {
  const runner = join(outdir, 'lambda-child.js');
  await build({ entryPoints: [join(__dirname, 'lambda-child.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: runner, logLevel: 'warning' });
  return runner;
}

/** A cold container: loads `bundle`, takes its `exported` handler, and answers invocations until killed. */
export async function startFunctionProcess(runner: string, bundle: string, env: Record<string, string>, exported = 'handler'): Promise<FunctionProcess> {
  const child = fork(runner, [bundle, exported], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const failed = (code: number | null) => reject(new Error(`the function process exited with ${String(code)} before it was ready`));
    child.once('exit', failed);
    child.once('message', () => {
      child.off('exit', failed);
      resolve();
    });
  });
  // One listener per process, however many invocations are in flight: each waits here for the answer with its id.
  const pending = new Map<number, (outcome: InvocationOutcome) => void>();
  child.on('message', (outcome: InvocationOutcome) => {
    pending.get(outcome.id)?.(outcome);
    pending.delete(outcome.id);
  });
  // A process that dies ends the invocations it held, and any sent to it later, as Lambda reports them.
  let exitError: InvocationOutcome['error'];
  child.once('exit', (code, signal) => {
    exitError = { name: 'Runtime.ExitError', message: `Runtime exited with error: ${signal ? `signal: ${signal}` : `exit status ${String(code)}`}` };
    for (const [id, settle] of pending) settle({ id, error: exitError });
    pending.clear();
  });
  let next = 0;
  return {
    invoke: (event, remainingMs) =>
      new Promise((resolve) => {
        const id = (next += 1);
        if (exitError) return resolve({ id, error: exitError });
        pending.set(id, resolve);
        // A channel already closed means the exit is on its way, and settles this one with the others.
        if (child.connected) child.send({ id, event, remainingMs } satisfies Invocation);
      }),
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
