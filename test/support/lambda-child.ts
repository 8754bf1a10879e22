import { createRequire } from 'node:module';
import type { Context } from 'aws-lambda';
import { lambdaContext } from '../../local/lambda-events';

/**
 * A stand-in for the Lambda runtime in a process of its own, so a test can kill the function with SIGKILL at the
 * worst moment: it loads the deployable bundle given as its argument and runs the handler for each invocation the
 * parent sends over IPC, answering with the result or the error Lambda would report.
 */
export interface Invocation {
  readonly id: number;
  readonly event: unknown;
  /** What context.getRemainingTimeInMillis() starts from: Powertools expires an in-progress record after it. */
  readonly remainingMs: number;
}

export interface InvocationOutcome {
  readonly id: number;
  readonly result?: unknown;
  readonly error?: { readonly name: string; readonly message: string };
}

if (require.main === module) {
  const [bundle, exported = 'handler'] = process.argv.slice(2);
  const handler = (createRequire(__filename)(bundle ?? '') as Record<string, unknown>)[exported];
  // Lambda's runtime refuses to start a function whose configured handler is not a function exported by its file.
  if (typeof handler !== 'function') throw new Error(`${bundle ?? ''} exports no function named ${exported}`);
  process.on('message', (invocation: Invocation) => {
    (handler as (event: unknown, context: Context) => Promise<unknown>)(invocation.event, lambdaContext(invocation.remainingMs)).then(
      (result) => process.send?.({ id: invocation.id, result } satisfies InvocationOutcome),
      (error: unknown) =>
        process.send?.({
          id: invocation.id,
          error: { name: error instanceof Error ? error.name : 'Error', message: error instanceof Error ? error.message : String(error) },
        } satisfies InvocationOutcome),
    );
  });
  process.send?.('ready');
}
