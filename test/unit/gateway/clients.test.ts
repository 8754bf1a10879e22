import { DescribeContactCommand, TransferContactCommand } from '@aws-sdk/client-connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ThrottleLeftToThePacer, createGatewayClients } from '../../../lambda/clients';
import { loadConfig } from '../../../lambda/config';
import { startConnectSimulator } from '../../../simulator/connect-simulator';
import type { ConnectSimulator } from '../../../simulator/connect-simulator';

let connect: ConnectSimulator;
beforeAll(async () => {
  connect = await startConnectSimulator();
});
afterAll(() => connect.close());

const clientsFor = (sim: ConnectSimulator) =>
  createGatewayClients(loadConfig({ CONNECT_INSTANCE_ARN: sim.instanceArn, IDEMPOTENCY_TABLE_NAME: 'idem', LEDGER_TABLE_NAME: 'ledger' }), {
    endpoints: { connect: sim.url },
    credentials: { accessKeyId: 'a', secretAccessKey: 's' },
  });

describe("TransferContact's own client", () => {
  const transfer = () => new TransferContactCommand({ InstanceId: connect.instanceId, ContactId: 'c-none', ContactFlowId: 'f-none', ClientToken: 'token-1' });

  it('gives a throttle back after one call, for the shared pacer to schedule the next send', async () => {
    const before = connect.callCount('TransferContact');
    connect.failNext('TransferContact', 1, 'throttle');
    await expect(clientsFor(connect).connectTransfer.send(transfer())).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(connect.callCount('TransferContact') - before).toBe(1);
  });

  it("keeps the SDK's retries of what is not a throttle (a 5xx), with the same ClientToken", async () => {
    const before = connect.calls('TransferContact').length;
    connect.failNext('TransferContact', 1, 'internal');
    await clientsFor(connect).connectTransfer.send(transfer()).catch(() => undefined);
    const sent = connect.calls('TransferContact').slice(before);
    expect(sent.length).toBe(2);
    expect(sent.map((call) => call.input.ClientToken)).toEqual(['token-1', 'token-1']);
  });

  it('leaves the Describe calls their standard retries, a throttle included', async () => {
    const before = connect.callCount('DescribeContact');
    connect.failNext('DescribeContact', 1, 'throttle');
    await clientsFor(connect).connect.send(new DescribeContactCommand({ InstanceId: connect.instanceId, ContactId: 'c-none' })).catch(() => undefined);
    expect(connect.callCount('DescribeContact') - before).toBe(2);
  });
});

describe('ThrottleLeftToThePacer', () => {
  it('refuses to retry a throttle and retries a transient error', async () => {
    const strategy = new ThrottleLeftToThePacer(3);
    const token = await strategy.acquireInitialRetryToken('connect');
    await expect(strategy.refreshRetryTokenForRetry(token, { errorType: 'THROTTLING' })).rejects.toThrow(/shared pacer/);
    await expect(strategy.refreshRetryTokenForRetry(token, { errorType: 'TRANSIENT' })).resolves.toBeDefined();
  });
});
