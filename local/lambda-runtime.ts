import { InvokeStore, InvokeStoreBase } from '@aws/lambda-invoke-store';
import type { Context } from 'aws-lambda';
import type { ServiceHandler, ServiceResponse } from '../lambda/gateway';
import { lambdaContext } from './lambda-events';

export type LocalInvoke = (event: unknown, context?: Context) => Promise<ServiceResponse>;

export interface LocalLambdaRuntime {
  /** Runs the handler as Lambda's runtime runs an invocation: inside a context of its own. */
  invoker(handler: ServiceHandler): LocalInvoke;
}

/**
 * Local mode serves concurrent requests in one process, which makes it a Lambda execution environment with several
 * invocations in flight at once (as Lambda Managed Instances run them), not the one-event-at-a-time environment the
 * stack deploys. Lambda's runtime tells libraries which kind it is with AWS_LAMBDA_MAX_CONCURRENCY and, in the
 * concurrent kind, runs every invocation inside its own InvokeStore context; Powertools then keeps per-invocation
 * state (Logger keys such as the correlation id, the Lambda context, metrics) there instead of in module-wide fields.
 * This does the same, so one request's appendKeys can no longer label another request's log lines, and the handler
 * stays the deployed one, unchanged.
 *
 * Call it before anything in the process makes an AWS SDK call: the SDK creates the process-wide store on its first
 * call, of the kind the environment says then, as the runtime's own does before loading a handler.
 */
export async function startLocalLambdaRuntime(): Promise<LocalLambdaRuntime> {
  // A number, as Lambda sets it; local mode itself does not cap concurrency.
  process.env.AWS_LAMBDA_MAX_CONCURRENCY ??= '64';
  const store = await InvokeStore.getInstanceAsync(true);
  if (!(await keepsContextsApart(store))) {
    throw new Error('Local mode must start before any AWS SDK call in this process: the invocation store was already created for one invocation at a time.');
  }
  return {
    invoker: (handler) => (event, context = lambdaContext()) =>
      store.run({ [InvokeStoreBase.PROTECTED_KEYS.REQUEST_ID]: context.awsRequestId }, () => handler(event, context)),
  };
}

async function keepsContextsApart(store: InvokeStoreBase): Promise<boolean> {
  const key = Symbol('probe');
  const seen = await Promise.all(
    [1, 2].map((value) =>
      store.run({ [key]: value }, async () => {
        await Promise.resolve();
        return store.get(key);
      }),
    ),
  );
  return seen[0] === 1 && seen[1] === 2;
}
