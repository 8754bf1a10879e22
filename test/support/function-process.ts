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
    env: { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`the function process exited with ${String(code)} before it was ready`)));
  });
  let next = 0;
  return {
    invoke: (event, remainingMs) =>
      new Promise((resolve) => {
        const id = (next += 1);
        const listener = (message: InvocationOutcome): void => {
          if (message.id !== id) return;
          child.off('message', listener);
          resolve(message);
        };
        child.on('message', listener);
        child.send({ id, event, remainingMs } satisfies Invocation);
      }),
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
