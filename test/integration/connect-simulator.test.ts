import { randomUUID } from 'node:crypto';
import {
  ConnectClient,
  DescribeContactCommand,
  DescribeContactFlowCommand,
  DescribeQueueCommand,
  DescribeUserCommand,
  TransferContactCommand,
} from '@aws-sdk/client-connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_TOKEN_VALIDITY_MS, startConnectSimulator, UNLIMITED } from '../../simulator/connect-simulator';
import type { ConnectSimulator } from '../../simulator/connect-simulator';
import { DEMO_SEED_PATH, loadSeed, parseSeed } from '../../simulator/seed';

/** The simulator is what every other integration test trusts to behave like Connect, so it is tested too. */
let sim: ConnectSimulator;
let client: ConnectClient;
const seed = loadSeed(DEMO_SEED_PATH);
const activeTask = (n: number) => `a1000000-0000-4000-8000-00000000000${n}`;
const inbound = 'f1000000-0000-4000-8000-000000000001';

beforeAll(async () => {
  // Quotas have their own suite (connect-quota.test.ts); these tests call faster than Connect would allow.
  sim = await startConnectSimulator({ seed, quotas: UNLIMITED });
  client = new ConnectClient({ region: 'us-east-1', endpoint: sim.url, credentials: { accessKeyId: 'a', secretAccessKey: 's' }, maxAttempts: 1 });
});
afterAll(() => sim.close());

const errorOf = async (promise: Promise<unknown>) => {
  const error = await promise.then(() => undefined, (caught: unknown) => caught as Error & { $metadata: { httpStatusCode?: number } });
  return { name: error?.name, status: error?.$metadata.httpStatusCode, message: error?.message };
};

describe('Connect simulator over the real SDK client', () => {
  it('describes contacts with epoch timestamps that the SDK turns into dates', async () => {
    const { Contact } = await client.send(new DescribeContactCommand({ InstanceId: sim.instanceId, ContactId: 'e1000000-0000-4000-8000-000000000009' }));
    expect(Contact?.Channel).toBe('EMAIL');
    expect(Contact?.DisconnectTimestamp).toBeInstanceOf(Date);
    expect(Contact?.DisconnectTimestamp?.toISOString()).toBe('2026-11-21T11:00:00.000Z');
  });

  it('answers like Connect for missing and unpublished resources, and for another instance', async () => {
    expect(await errorOf(client.send(new DescribeContactCommand({ InstanceId: sim.instanceId, ContactId: randomUUID() })))).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
    expect(await errorOf(client.send(new DescribeContactFlowCommand({ InstanceId: sim.instanceId, ContactFlowId: 'f1000000-0000-4000-8000-000000000005' })))).toMatchObject({ name: 'ContactFlowNotPublishedException', status: 404 });
    expect(await errorOf(client.send(new DescribeQueueCommand({ InstanceId: 'other', QueueId: 'q1000000-0000-4000-8000-000000000001' })))).toMatchObject({ name: 'ResourceNotFoundException' });
    const { Queue } = await client.send(new DescribeQueueCommand({ InstanceId: sim.instanceArn, QueueId: 'q1000000-0000-4000-8000-000000000003' }));
    expect(Queue?.Status).toBe('DISABLED');
    const { User } = await client.send(new DescribeUserCommand({ InstanceId: sim.instanceId, UserId: `${sim.instanceArn}/agent/u1000000-0000-4000-8000-000000000001` }));
    expect(User?.Username).toBe('ana.agent');
  });

  it('transfers by making a new segment of the same tree and ending the old one', async () => {
    const output = await client.send(new TransferContactCommand({ InstanceId: sim.instanceId, ContactId: activeTask(1), ContactFlowId: inbound }));
    const next = sim.contact(output.ContactId ?? '');
    expect(next).toMatchObject({ PreviousContactId: activeTask(1), InitialContactId: activeTask(1), Channel: 'TASK', InitiationMethod: 'TRANSFER' });
    expect(sim.contact(activeTask(1))?.DisconnectTimestamp).toBeDefined();
    expect(await errorOf(client.send(new TransferContactCommand({ InstanceId: sim.instanceId, ContactId: activeTask(1), ContactFlowId: inbound })))).toMatchObject({ name: 'ResourceNotFoundException', message: 'The contact has ended' });
  });

  it('refuses what Connect documents it refuses', async () => {
    const transfer = (input: Partial<{ ContactId: string; ContactFlowId: string; QueueId: string; UserId: string }>) =>
      errorOf(client.send(new TransferContactCommand({ InstanceId: sim.instanceId, ContactId: activeTask(2), ContactFlowId: inbound, ...input })));
    expect(await transfer({ ContactId: 'v1000000-0000-4000-8000-000000000001' })).toMatchObject({ name: 'InvalidRequestException', status: 400 });
    expect(await transfer({ QueueId: 'q1000000-0000-4000-8000-000000000001', UserId: 'u1000000-0000-4000-8000-000000000001' })).toMatchObject({ name: 'InvalidRequestException' });
    expect(await transfer({ ContactFlowId: 'f1000000-0000-4000-8000-000000000006' })).toMatchObject({ name: 'InvalidRequestException' });
    expect(await transfer({ ContactFlowId: 'f1000000-0000-4000-8000-000000000004' })).toMatchObject({ name: 'InvalidRequestException' });
    expect(sim.contact(activeTask(2))?.DisconnectTimestamp).toBeUndefined();
  });

  it('deduplicates a ClientToken, and refuses it with other parameters', async () => {
    const before = sim.transfersPerformed();
    const send = (ContactFlowId: string) => client.send(new TransferContactCommand({ InstanceId: sim.instanceId, ContactId: activeTask(3), ContactFlowId, ClientToken: 'token-1' }));
    const first = await send(inbound);
    const again = await send(inbound);
    expect(again.ContactId).toBe(first.ContactId);
    expect(sim.transfersPerformed()).toBe(before + 1);
    expect(await errorOf(send('f1000000-0000-4000-8000-000000000003'))).toMatchObject({ name: 'IdempotencyException', status: 409 });
  });

  it("answers a repeated token with the original result after the contact ended, for the documented 7 days, then forgets it", async () => {
    let now = Date.now();
    const clocked = await startConnectSimulator({ seed, now: () => now, quotas: UNLIMITED });
    const clockedClient = new ConnectClient({ region: 'us-east-1', endpoint: clocked.url, credentials: { accessKeyId: 'a', secretAccessKey: 's' }, maxAttempts: 1 });
    try {
      const send = () => clockedClient.send(new TransferContactCommand({ InstanceId: clocked.instanceId, ContactId: activeTask(4), ContactFlowId: inbound, ClientToken: 'token-2' }));
      const first = await send();
      expect(clocked.contact(activeTask(4))?.DisconnectTimestamp).toBeDefined();
      now += CLIENT_TOKEN_VALIDITY_MS;
      expect((await send()).ContactId).toBe(first.ContactId);
      expect(clocked.calls('TransferContact').at(-1)?.tokenReplay).toBe(true);
      now += 1000;
      expect(await errorOf(send())).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
      expect(clocked.transfersPerformed()).toBe(1);
    } finally {
      await clocked.close();
    }
  });

  it('refuses the twelfth transfer of a tree with ServiceQuotaExceededException', async () => {
    let contactId = activeTask(4);
    for (let n = 0; n < 11; n += 1) {
      contactId = (await client.send(new TransferContactCommand({ InstanceId: sim.instanceId, ContactId: contactId, ContactFlowId: inbound }))).ContactId ?? '';
    }
    expect(await errorOf(client.send(new TransferContactCommand({ InstanceId: sim.instanceId, ContactId: contactId, ContactFlowId: inbound })))).toMatchObject({ name: 'ServiceQuotaExceededException', status: 402 });
  });

  it('injects throttling and latency, then recovers, counting every call', async () => {
    const calls = sim.callCount('DescribeQueue');
    sim.failNext('DescribeQueue', 1, 'throttle');
    const describe = () => client.send(new DescribeQueueCommand({ InstanceId: sim.instanceId, QueueId: 'q1000000-0000-4000-8000-000000000001' }));
    expect(await errorOf(describe())).toMatchObject({ name: 'ThrottlingException', status: 429 });
    sim.setLatency(120, 'DescribeQueue');
    const started = Date.now();
    await describe();
    expect(Date.now() - started).toBeGreaterThanOrEqual(115);
    expect(sim.callCount('DescribeQueue')).toBe(calls + 2);
    sim.setLatency(0);
  });

  it('names the bad field of a seed', () => {
    expect(() => parseSeed({ instance: { id: 'i', arn: 'arn:aws:connect:us-east-1:1:instance/i' }, flows: [{ Id: 'f', Name: 'n', Type: 'CONTACT_FLOW', State: 'ACTIVE' }] })).toThrow(
      'Seed seed: flows[0].Status must be a non-empty string',
    );
  });
});
