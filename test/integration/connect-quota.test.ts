import { randomUUID } from 'node:crypto';
import { ConnectClient, DescribeQueueCommand, TransferContactCommand } from '@aws-sdk/client-connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECT_DEFAULT_QUOTAS, startConnectSimulator } from '../../simulator/connect-simulator';
import type { ConnectSimulator } from '../../simulator/connect-simulator';

/** The simulator throttles as Connect does, so pacing is proved against a quota rather than assumed. */
let sim: ConnectSimulator;
let client: ConnectClient;

beforeAll(async () => {
  sim = await startConnectSimulator();
  // One attempt: the test looks at what Connect answers, not at the SDK's retries.
  client = new ConnectClient({ region: 'us-east-1', endpoint: sim.url, credentials: { accessKeyId: 'a', secretAccessKey: 's' }, maxAttempts: 1 });
});
afterAll(() => sim.close());

const outcome = (promise: Promise<unknown>) =>
  promise.then(
    () => 'ok',
    (error: Error & { $metadata?: { httpStatusCode?: number } }) => `${error.$metadata?.httpStatusCode} ${error.name}: ${error.message}`,
  );

describe('Connect quotas in the simulator', () => {
  it('defaults to TransferContact 2/s burst 5', () => {
    expect(CONNECT_DEFAULT_QUOTAS.TransferContact).toEqual({ rate: 2, burst: 5 });
  });

  it('answers the burst, then 429 ThrottlingException as Connect does, per operation', async () => {
    sim.reset();
    const flow = sim.addFlow({ Id: randomUUID(), Name: 'f', Type: 'CONTACT_FLOW', State: 'ACTIVE', Status: 'PUBLISHED' }).Id;
    const transfer = () =>
      client.send(new TransferContactCommand({ InstanceId: sim.instanceId, ContactId: sim.addContact({ Id: randomUUID(), Channel: 'TASK' }).Id, ContactFlowId: flow }));
    const answers = await Promise.all(Array.from({ length: 8 }, () => outcome(transfer())));
    expect(answers.filter((answer) => answer === 'ok')).toHaveLength(5);
    expect(answers.filter((answer) => answer !== 'ok')).toEqual(Array(3).fill('429 ThrottlingException: Rate exceeded'));
    expect(sim.throttledCount('TransferContact')).toBe(3);
    expect(sim.transfersPerformed()).toBe(5);
    // Another operation has its own bucket.
    expect(await outcome(client.send(new DescribeQueueCommand({ InstanceId: sim.instanceId, QueueId: 'none' })))).toMatch(/^404/);
  });

  it('refills at the rate: one more call is allowed about half a second later', async () => {
    sim.reset();
    sim.setQuotas({ TransferContact: { rate: 2, burst: 1 } });
    const flow = sim.addFlow({ Id: randomUUID(), Name: 'f', Type: 'CONTACT_FLOW', State: 'ACTIVE', Status: 'PUBLISHED' }).Id;
    const transfer = () =>
      outcome(client.send(new TransferContactCommand({ InstanceId: sim.instanceId, ContactId: sim.addContact({ Id: randomUUID(), Channel: 'TASK' }).Id, ContactFlowId: flow })));
    expect(await transfer()).toBe('ok');
    expect(await transfer()).toMatch(/^429/);
    await new Promise((resolve) => setTimeout(resolve, 550));
    expect(await transfer()).toBe('ok');
    sim.setQuotas(CONNECT_DEFAULT_QUOTAS);
  });
});
