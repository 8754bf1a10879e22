import { randomUUID } from 'node:crypto';
import {
  AccessDeniedException,
  ConnectClient,
  ConnectServiceException,
  InvalidRequestException,
  ResourceNotFoundException,
  TransferContactCommand,
} from '@aws-sdk/client-connect';
import type { ConnectClientConfig } from '@aws-sdk/client-connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalGateway } from '../../local/local-gateway';
import type { LocalGateway } from '../../local/local-gateway';
import type { ConnectSimulator } from '../../simulator/connect-simulator';
import { connectFixtures } from '../support/fixtures';
import { startIamDoor } from '../support/iam-door';
import type { IamDoor } from '../support/iam-door';

/**
 * The gateway's request and errors are Connect's own, so code that already calls Connect's TransferContact with
 * the official SDK client can point that client at the gateway (README, "Connect's own SDK as a client"). This
 * is the supported configuration, driven through the SigV4-verifying door that stands in for API Gateway's IAM
 * authorisation, so a change in how the SDK signs or parses errors breaks here first.
 */
const credentials = { accessKeyId: 'AKIDCONNECTSDK', secretAccessKey: 'connect-sdk-secret' };

let local: LocalGateway;
let connect: ConnectSimulator;
let door: IamDoor;
let fx: ReturnType<typeof connectFixtures>;
let instanceId: string;

beforeAll(async () => {
  local = await startLocalGateway({ port: 0 });
  connect = local.connect!;
  door = await startIamDoor(local.url, credentials);
  fx = connectFixtures(connect);
  instanceId = local.instanceArn.split('/').pop()!;
});
afterAll(async () => {
  await door?.close();
  await local?.close();
});

/**
 * The README's configuration: the API's stage URL as the endpoint, and API Gateway's signing name. `signingName` is
 * read by the SDK's SigV4 configuration but not part of the client's public config type, hence the wider type.
 */
const gatewayClient = (options: { secretAccessKey?: string } = {}) => {
  const config: ConnectClientConfig & { signingName: string } = {
    endpoint: door.url,
    region: 'eu-west-2',
    signingName: 'execute-api',
    credentials: { ...credentials, ...options },
    maxAttempts: 1,
  };
  return new ConnectClient(config);
};

const caught = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error);

describe("Connect's own ConnectClient pointed at the gateway", () => {
  it('transfers a contact, signed for execute-api as API Gateway IAM authorisation checks it', async () => {
    const before = door.checks.length;
    const contactId = fx.contact();
    const output = await gatewayClient().send(
      new TransferContactCommand({ InstanceId: instanceId, ContactId: contactId, ContactFlowId: fx.flows.inbound, QueueId: fx.queues.enabled }),
    );

    expect(output.ContactId).toBeDefined();
    expect(output.ContactArn).toBe(`${local.instanceArn}/contact/${output.ContactId}`);
    expect(output.$metadata.httpStatusCode).toBe(200);
    expect(connect.contact(output.ContactId!)?.PreviousContactId).toBe(contactId);
    expect(door.checks.slice(before)).toEqual([
      expect.objectContaining({ valid: true, accessKeyId: credentials.accessKeyId, scope: expect.objectContaining({ region: 'eu-west-2', service: 'execute-api' }) as unknown }),
    ]);
  });

  it("sends a ClientToken of the SDK's making, and a retry of the same command with it is a replay", async () => {
    const command = new TransferContactCommand({
      InstanceId: instanceId,
      ContactId: fx.contact(),
      ContactFlowId: fx.flows.inbound,
      QueueId: fx.queues.enabled,
      ClientToken: randomUUID(),
    });
    const first = await gatewayClient().send(command);
    const again = await gatewayClient().send(command);

    expect(again.ContactId).toBe(first.ContactId);
    expect(connect.calls('TransferContact').filter((call) => call.input.ContactId === command.input.ContactId && call.status === 200)).toHaveLength(1);
  });

  it.each([
    ['InvalidRequestException', InvalidRequestException, 400, 'QUEUE_DISABLED', () => ({ ContactId: fx.contact(), ContactFlowId: fx.flows.inbound, QueueId: fx.queues.disabled })],
    ['ResourceNotFoundException', ResourceNotFoundException, 404, 'CONTACT_NOT_FOUND', () => ({ ContactId: fx.unknownId(), ContactFlowId: fx.flows.inbound, QueueId: fx.queues.enabled })],
    ['AccessDeniedException', AccessDeniedException, 403, 'INSTANCE_NOT_ALLOWED', () => ({ ContactId: fx.contact(), ContactFlowId: fx.flows.inbound, QueueId: fx.queues.enabled, InstanceId: randomUUID() })],
  ])('throws the typed %s carrying the gateway ReasonCode', async (name, ErrorClass, status, reason, request) => {
    const error = await caught(gatewayClient().send(new TransferContactCommand({ InstanceId: instanceId, ...request() })));

    expect(error).toBeInstanceOf(ErrorClass);
    expect(error).toBeInstanceOf(ConnectServiceException);
    expect(error).toMatchObject({ name, ReasonCode: reason, $fault: 'client', $metadata: { httpStatusCode: status } });
    expect((error as Error).message).toEqual(expect.any(String));
    expect((error as Error).message.length).toBeGreaterThan(0);
  });

  it("is refused by API Gateway's IAM check when left with Connect's own signing name", async () => {
    const contactId = fx.contact();
    const error = await caught(
      new ConnectClient({ endpoint: door.url, region: 'eu-west-2', credentials, maxAttempts: 1 }).send(
        new TransferContactCommand({ InstanceId: instanceId, ContactId: contactId, ContactFlowId: fx.flows.inbound, QueueId: fx.queues.enabled }),
      ),
    );
    expect(error).toBeInstanceOf(AccessDeniedException);
    expect(error).toMatchObject({ ReasonCode: 'INVALID_SIGNATURE', message: expect.stringContaining("scoped to correct service: 'execute-api'") as unknown });
    expect(connect.contact(contactId)?.DisconnectTimestamp).toBeUndefined();
  });

  it('is refused with a typed AccessDeniedException carrying INVALID_SIGNATURE when the secret is wrong', async () => {
    const contactId = fx.contact();
    const error = await caught(
      gatewayClient({ secretAccessKey: 'not-the-secret' }).send(
        new TransferContactCommand({ InstanceId: instanceId, ContactId: contactId, ContactFlowId: fx.flows.inbound, QueueId: fx.queues.enabled }),
      ),
    );
    expect(error).toBeInstanceOf(AccessDeniedException);
    expect(error).toMatchObject({ ReasonCode: 'INVALID_SIGNATURE', $metadata: { httpStatusCode: 403 } });
    expect(connect.contact(contactId)?.DisconnectTimestamp).toBeUndefined();
  });
});
