import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectFixtures } from '../support/fixtures';
import { asHttp, httpEvent, lambdaContext, ledgerItems, startGatewayHarness } from '../support/gateway-harness';
import type { GatewayHarness } from '../support/gateway-harness';

/**
 * Two gateways in one process, each with its own configuration, Connect and DynamoDB. Both are started before either
 * serves, and they serve at the same time: a setting or an endpoint that leaked through the process environment
 * would send one gateway's calls to the other's services (its contacts would not be found there) or apply one's
 * channel policy to the other.
 */
describe('two gateways with different configurations, side by side in one process', () => {
  let tasksOnly: GatewayHarness;
  let tasksAndEmails: GatewayHarness;

  beforeAll(async () => {
    [tasksOnly, tasksAndEmails] = await Promise.all([
      startGatewayHarness({ env: { ALLOWED_CHANNELS: 'TASK' } }),
      startGatewayHarness({ env: { ALLOWED_CHANNELS: 'TASK,EMAIL' } }),
    ]);
  });
  afterAll(() => Promise.all([tasksOnly?.close(), tasksAndEmails?.close()]));

  it('each transfers through its own Connect, records in its own ledger, and applies its own channel policy', async () => {
    const gateways = [tasksOnly, tasksAndEmails].map((harness) => {
      const fx = connectFixtures(harness.connect);
      return { harness, fx, handler: harness.newContainer() };
    });
    const answers = await Promise.all(
      gateways.flatMap(({ fx, handler }) =>
        ['TASK', 'EMAIL'].map(async (channel) => {
          const ContactId = fx.contact(channel);
          const answer = asHttp(await handler(httpEvent({ ContactId, ContactFlowId: fx.flows.inbound, QueueId: fx.queues.enabled }), lambdaContext()));
          return { ContactId, channel, answer };
        }),
      ),
    );
    const [taskOnTasksOnly, emailOnTasksOnly, taskOnBoth, emailOnBoth] = answers;

    expect(taskOnTasksOnly?.answer.status).toBe(200);
    expect(emailOnTasksOnly?.answer).toMatchObject({ status: 400, body: { ReasonCode: 'CHANNEL_NOT_SUPPORTED' } });
    expect(taskOnBoth?.answer.status).toBe(200);
    expect(emailOnBoth?.answer.status).toBe(200);

    // Connect: each simulator saw its own gateway's transfers and nothing of the other's.
    expect(tasksOnly.connect.calls('TransferContact').map((call) => call.input.ContactId)).toEqual([taskOnTasksOnly?.ContactId]);
    expect(tasksAndEmails.connect.calls('TransferContact').map((call) => call.input.ContactId).sort()).toEqual([taskOnBoth?.ContactId, emailOnBoth?.ContactId].sort());
    // DynamoDB: each ledger holds its own transfers only.
    expect(await ledgerItems(tasksOnly, `TREE#${taskOnBoth?.ContactId}`)).toEqual([]);
    expect(await ledgerItems(tasksAndEmails, `TREE#${taskOnTasksOnly?.ContactId}`)).toEqual([]);
    expect(await ledgerItems(tasksAndEmails, `TREE#${emailOnBoth?.ContactId}`)).toEqual([expect.objectContaining({ status: 'TRANSFERRED' })]);
  });
});
