import { test } from 'vitest';
import { connectFixtures } from './fixtures';
import { asHttp, httpEvent, lambdaContext, startGatewayHarness } from './gateway-harness';
import type { GatewayHarnessOptions, HttpAnswer } from './gateway-harness';

/**
 * The integration suites' set-up, as vitest fixtures instead of the same beforeAll in every file: a suite takes what
 * it names (`async ({ gateway, fx }) => ...`). The harness starts on a file's first use and closes after its last
 * test; `gateway` is one warm container for the whole file, as a deployed function serves request after request.
 *
 *   const it = gatewayTest();                                     // the harness's defaults
 *   const it = gatewayTest({ quotas: CONNECT_DEFAULT_QUOTAS });   // Connect's quotas, for instance
 */
export function gatewayTest(options: GatewayHarnessOptions = {}) {
  return test
    .extend('harnessOptions', { scope: 'file' }, options)
    .extend('harness', { scope: 'file' }, async ({ harnessOptions }, { onCleanup }) => {
      const harness = await startGatewayHarness(harnessOptions);
      onCleanup(() => harness.close());
      return harness;
    })
    .extend('gateway', { scope: 'file' }, ({ harness }) => harness.newContainer())
    .extend('fx', { scope: 'file' }, ({ harness }) => connectFixtures(harness.connect))
    .extend('post', { scope: 'file' }, ({ gateway }) =>
      /** Through the HTTPS door, read as a caller reads the answer. */
      async (body: unknown, headers?: Record<string, string>): Promise<HttpAnswer> => asHttp(await gateway(httpEvent(body, headers), lambdaContext())),
    )
    .extend('queueTransfer', { scope: 'file' }, ({ fx }) =>
      /** A request every rule accepts: a fresh active task to an enabled queue through an inbound flow. */
      () => ({ ContactId: fx.contact(), ContactFlowId: fx.flows.inbound, QueueId: fx.queues.enabled }),
    )
    .extend('transfers', { scope: 'file' }, ({ harness }) =>
      /** TransferContact calls Connect has received so far, from any container. */
      (): number => harness.connect.callCount('TransferContact'),
    );
}
