import { describe, expect } from 'vitest';
import type { ConnectFixtures } from '../support/fixtures';
import { asHttp, httpEvent, lambdaContext } from '../support/gateway-harness';
import { gatewayTest } from '../support/gateway-test';

const it = gatewayTest();

describe('a transfer that passes every rule', () => {
  it('answers 200 with exactly what Connect returned, and Connect made the new segment', async ({ harness, fx, post }) => {
    const contactId = fx.contact();
    const answer = await post({ ContactId: contactId, ContactFlowId: fx.flows.inbound, QueueId: fx.queues.enabled });

    expect(answer.status).toBe(200);
    expect(Object.keys(answer.body).sort()).toEqual(['ContactArn', 'ContactId']);
    const next = harness.connect.contact(String(answer.body.ContactId));
    expect(next?.PreviousContactId).toBe(contactId);
    expect(answer.body.ContactArn).toBe(`${harness.connect.instanceArn}/contact/${String(answer.body.ContactId)}`);
    expect(harness.connect.contact(contactId)?.DisconnectTimestamp).toBeDefined();
    expect(answer.headers['Idempotent-Replayed']).toBeUndefined();
  });

  it('accepts ARNs of the own instance and the instance ARN itself', async ({ harness, fx, post }) => {
    const arn = harness.connect.instanceArn;
    const answer = await post({
      InstanceId: arn,
      ContactId: fx.contact('EMAIL'),
      ContactFlowId: fx.flows.agentTransfer,
      UserId: `${arn}/agent/${fx.users.agent}`,
    });
    expect(answer.status).toBe(200);
    const sent = harness.connect.calls('TransferContact').at(-1)?.input;
    expect(sent?.UserId).toBe(fx.users.agent);
    expect(sent?.InstanceId).toBe(harness.connect.instanceId);
  });

  it('transfers to the flow alone when neither QueueId nor UserId is given', async ({ fx, post }) => {
    const answer = await post({ ContactId: fx.contact(), ContactFlowId: fx.flows.inbound });
    expect(answer.status).toBe(200);
  });

  it('calls only DescribeContact and TransferContact once flow and queue are cached', async ({ harness, fx, post }) => {
    await post({ ContactId: fx.contact(), ContactFlowId: fx.flows.queueTransfer, QueueId: fx.queues.enabled });
    const before = harness.connect.calls().length;
    await post({ ContactId: fx.contact(), ContactFlowId: fx.flows.queueTransfer, QueueId: fx.queues.enabled });
    expect(harness.connect.calls().slice(before).map((call) => call.operation).sort()).toEqual(['DescribeContact', 'TransferContact']);
  });
});

describe('contract section 4: each rule, its status, type and reason, and no transfer', () => {
  const rows: [string, (fx: ConnectFixtures) => Record<string, unknown>, number, string, string][] = [
    ['1 shape', (fx) => ({ ContactId: fx.contact() }), 400, 'InvalidRequestException', 'VALIDATION_FAILED'],
    ['1 unknown member', (fx) => ({ ContactId: fx.contact(), ContactFlowId: fx.flows.inbound, QueueID: fx.queues.enabled }), 400, 'InvalidRequestException', 'VALIDATION_FAILED'],
    ['2 queue and user', (fx) => ({ ContactId: fx.contact(), ContactFlowId: fx.flows.inbound, QueueId: fx.queues.enabled, UserId: fx.users.agent }), 400, 'InvalidRequestException', 'QUEUE_AND_USER_BOTH_SET'],
    ['3 other instance', (fx) => ({ InstanceId: 'another-instance', ContactId: fx.contact(), ContactFlowId: fx.flows.inbound }), 403, 'AccessDeniedException', 'INSTANCE_NOT_ALLOWED'],
    ['3 queue ARN of another instance', (fx) => ({ ContactId: fx.contact(), ContactFlowId: fx.flows.inbound, QueueId: 'arn:aws:connect:us-east-1:111122223333:instance/other/queue/q' }), 403, 'AccessDeniedException', 'INSTANCE_NOT_ALLOWED'],
    ['5 unknown contact', (fx) => ({ ContactId: fx.unknownId(), ContactFlowId: fx.flows.inbound }), 404, 'ResourceNotFoundException', 'CONTACT_NOT_FOUND'],
    ['6 voice contact', (fx) => ({ ContactId: fx.contact('VOICE'), ContactFlowId: fx.flows.inbound }), 400, 'InvalidRequestException', 'CHANNEL_NOT_SUPPORTED'],
    ['6 chat contact', (fx) => ({ ContactId: fx.contact('CHAT'), ContactFlowId: fx.flows.inbound }), 400, 'InvalidRequestException', 'CHANNEL_NOT_SUPPORTED'],
    ['7 ended contact', (fx) => ({ ContactId: fx.contact('TASK', true), ContactFlowId: fx.flows.inbound }), 400, 'InvalidRequestException', 'CONTACT_NOT_ACTIVE'],
    ['8 unknown flow', (fx) => ({ ContactId: fx.contact(), ContactFlowId: fx.unknownId() }), 404, 'ResourceNotFoundException', 'FLOW_NOT_FOUND'],
    ['9 customer queue flow', (fx) => ({ ContactId: fx.contact(), ContactFlowId: fx.flows.customerQueue }), 400, 'InvalidRequestException', 'FLOW_TYPE_NOT_SUPPORTED'],
    ['10 archived flow', (fx) => ({ ContactId: fx.contact(), ContactFlowId: fx.flows.archived }), 400, 'InvalidRequestException', 'FLOW_NOT_ACTIVE'],
    ['10 unpublished flow', (fx) => ({ ContactId: fx.contact(), ContactFlowId: fx.flows.unpublished }), 400, 'InvalidRequestException', 'FLOW_NOT_ACTIVE'],
    ['11 agent flow without user', (fx) => ({ ContactId: fx.contact(), ContactFlowId: fx.flows.agentTransfer, QueueId: fx.queues.enabled }), 400, 'InvalidRequestException', 'FLOW_TARGET_MISMATCH'],
    ['11 queue flow without queue', (fx) => ({ ContactId: fx.contact(), ContactFlowId: fx.flows.queueTransfer }), 400, 'InvalidRequestException', 'FLOW_TARGET_MISMATCH'],
    ['12 unknown queue', (fx) => ({ ContactId: fx.contact(), ContactFlowId: fx.flows.inbound, QueueId: fx.unknownId() }), 404, 'ResourceNotFoundException', 'QUEUE_NOT_FOUND'],
    ['12 disabled queue', (fx) => ({ ContactId: fx.contact(), ContactFlowId: fx.flows.inbound, QueueId: fx.queues.disabled }), 400, 'InvalidRequestException', 'QUEUE_DISABLED'],
    ['13 unknown user', (fx) => ({ ContactId: fx.contact(), ContactFlowId: fx.flows.agentTransfer, UserId: fx.unknownId() }), 404, 'ResourceNotFoundException', 'USER_NOT_FOUND'],
    ['lowest rule wins: ended voice contact, unknown flow', (fx) => ({ ContactId: fx.contact('VOICE', true), ContactFlowId: fx.unknownId() }), 400, 'InvalidRequestException', 'CHANNEL_NOT_SUPPORTED'],
  ];

  it.for(rows)('rule %s', async ([_rule, request, status, type, reason], { fx, post, transfers }) => {
    const before = transfers();
    const answer = await post(request(fx));
    expect(answer.status).toBe(status);
    expect(answer.headers['x-amzn-ErrorType']).toBe(type);
    expect(answer.body).toMatchObject({ Type: type, ReasonCode: reason });
    expect(typeof answer.body.Message).toBe('string');
    expect(transfers()).toBe(before);
  });

  it('rules 1-3 need no remote call at all', async ({ harness, post }) => {
    const before = harness.connect.calls().length;
    const storeRequestsBefore = harness.dynamodb.requestCount();
    const requests = [{ ContactId: 'c' }, { ContactId: 'c', ContactFlowId: 'f', QueueId: 'q', UserId: 'u' }, { InstanceId: 'x', ContactId: 'c', ContactFlowId: 'f' }];
    for (const request of requests) expect((await post(request)).status).toBeGreaterThanOrEqual(400);
    expect(harness.connect.calls().length).toBe(before);
    expect(harness.dynamodb.requestCount()).toBe(storeRequestsBefore);
  });

  it('names each failing field', async ({ post }) => {
    const answer = await post({ ContactId: '', ContactFlowId: 'x'.repeat(501), QueueID: 'q' });
    expect(answer.body.Fields).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Field: 'ContactId' }),
        expect.objectContaining({ Field: 'ContactFlowId' }),
        expect.objectContaining({ Field: 'QueueID', Message: expect.stringContaining('QueueId') }),
      ]),
    );
  });

  it('rejects bodies that are not JSON objects, and over-long bodies, without a stack trace', async ({ post }) => {
    for (const body of ['not json', '[1,2]', '"text"', JSON.stringify({ ContactId: 'x'.repeat(17 * 1024), ContactFlowId: 'f' })]) {
      const answer = await post(body);
      expect(answer.status).toBe(400);
      expect(answer.body.ReasonCode).toBe('VALIDATION_FAILED');
      expect(JSON.stringify(answer.body)).not.toMatch(/at .*\.(ts|js):\d+/);
    }
  });
});

describe('contract section 5: what Connect says', () => {
  it('passes a refusal Connect makes after our rules on with its status and type', async ({ harness, fx, post }) => {
    harness.connect.failNext('TransferContact', 1, { status: 402, type: 'ServiceQuotaExceededException', message: 'Quota reached' });
    const answer = await post({ ContactId: fx.contact(), ContactFlowId: fx.flows.inbound });
    expect(answer.status).toBe(402);
    expect(answer.body).toMatchObject({ Type: 'ServiceQuotaExceededException', ReasonCode: 'CONNECT_REJECTED' });
  });

  it('answers THROTTLED when Connect still throttles after the SDK retries, then recovers', async ({ harness, fx, post }) => {
    const request = { ContactId: fx.contact(), ContactFlowId: fx.flows.inbound };
    harness.connect.failNext('TransferContact', 3, 'throttle');
    const throttled = await post(request);
    expect(throttled.status).toBe(429);
    expect(throttled.body).toMatchObject({ Type: 'ThrottlingException', ReasonCode: 'THROTTLED' });

    const recovered = await post(request);
    expect(recovered.status).toBe(200);
    expect(harness.connect.transfersPerformed()).toBeGreaterThan(0);
  });

  it('absorbs a single throttle through the SDK retry without the caller noticing', async ({ harness, fx, post }) => {
    harness.connect.failNext('DescribeContact', 1, 'throttle');
    expect((await post({ ContactId: fx.contact(), ContactFlowId: fx.flows.inbound })).status).toBe(200);
  });

  it('answers UPSTREAM_FAILURE for Connect 5xx without revealing internals, then recovers', async ({ harness, fx, post }) => {
    const request = { ContactId: fx.contact(), ContactFlowId: fx.flows.inbound };
    harness.connect.failNext('TransferContact', 3, 'internal');
    const failed = await post(request);
    expect(failed.status).toBe(500);
    expect(failed.body).toMatchObject({ Type: 'InternalServiceException', ReasonCode: 'UPSTREAM_FAILURE' });
    expect(JSON.stringify(failed.body)).not.toMatch(/arn:|ledger-|idempotency-|\.ts:/);
    expect((await post(request)).status).toBe(200);
  });

  it('answers UPSTREAM_FAILURE when Connect cannot be reached', async ({ harness, fx }) => {
    const unreachable = harness.newContainer({ AWS_ENDPOINT_URL_CONNECT: 'http://127.0.0.1:9' });
    const answer = asHttp(await unreachable(httpEvent({ ContactId: fx.contact(), ContactFlowId: fx.flows.inbound }), lambdaContext()));
    expect(answer.status).toBe(500);
    expect(answer.body.ReasonCode).toBe('UPSTREAM_FAILURE');
  });
});

describe('contract section 3.3: the direct-invocation function', () => {
  it('direct invoke: returns the result, and throws errors named after the Connect type', async ({ gateway, fx }) => {
    const result = await gateway.direct({ ContactId: fx.contact(), ContactFlowId: fx.flows.inbound }, lambdaContext());
    expect(Object.keys(result).sort()).toEqual(['ContactArn', 'ContactId']);

    await expect(gateway.direct({ ContactId: fx.unknownId(), ContactFlowId: fx.flows.inbound }, lambdaContext())).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: expect.stringMatching(/^CONTACT_NOT_FOUND: /),
    });
    await expect(gateway.direct('not an object', lambdaContext())).rejects.toMatchObject({ name: 'InvalidRequestException', message: expect.stringMatching(/^VALIDATION_FAILED/) });
  });
});
