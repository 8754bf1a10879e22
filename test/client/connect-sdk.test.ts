import { randomUUID } from 'node:crypto';
import {
  AccessDeniedException,
  ConditionalOperationFailedException,
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
 * the official SDK client can point that client at the gateway (docs/calling.md, "Connect's own SDK as a client"). This
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
 * docs/calling.md's configuration: the API's stage URL as the endpoint, and API Gateway's signing name. `signingName` is
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

  it("type-checks the handling of the gateway's ReasonCode, where Connect's model makes Reason a structure", async () => {
    const error = await caught(
      gatewayClient().send(new TransferContactCommand({ InstanceId: instanceId, ContactId: fx.contact(), ContactFlowId: fx.flows.inbound, QueueId: fx.queues.disabled })),
    );
    if (!(error instanceof InvalidRequestException)) throw error;
    // @ts-expect-error Connect's model types Reason as a tagged union: a string code there would not compile (tsc checks this line).
    expect(error.Reason === 'QUEUE_DISABLED').toBe(false);
    // What a caller writes: the member is not in Connect's model, so `in` narrows it.
    const reasonCode = 'ReasonCode' in error && typeof error.ReasonCode === 'string' ? error.ReasonCode : undefined;
    expect(reasonCode).toBe('QUEUE_DISABLED');
  });

  it('throws the typed ConditionalOperationFailedException for a condition that did not hold', async () => {
    const client = gatewayClient();
    // Connect's model has no Conditions member: added to the body before signing, as a caller's middleware would.
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { body?: string; headers: Record<string, string> };
        request.body = JSON.stringify({ ...(JSON.parse(request.body ?? '{}') as object), Conditions: { NotWithAgent: true } });
        request.headers['content-length'] = String(Buffer.byteLength(request.body));
        return next(args);
      },
      { step: 'build', name: 'addConditions' },
    );
    const contactId = fx.contact();
    connect.assignAgent(contactId, fx.users.agent);
    const error = await caught(client.send(new TransferContactCommand({ InstanceId: instanceId, ContactId: contactId, ContactFlowId: fx.flows.inbound })));
    expect(error).toBeInstanceOf(ConditionalOperationFailedException);
    expect(error).toMatchObject({ ReasonCode: 'CONDITION_NOT_MET', $metadata: { httpStatusCode: 409 } });
    expect(connect.contact(contactId)?.DisconnectTimestamp).toBeUndefined();
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
