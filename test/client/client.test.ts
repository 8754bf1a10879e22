import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTransferClient, fullJitter, TransferContactError } from '../../client/index';
import type { TransferClientOptions } from '../../client/index';
import { startLocalGateway } from '../../local/local-gateway';
import type { LocalGateway } from '../../local/local-gateway';
import type { ConnectSimulator } from '../../simulator/connect-simulator';
import { connectFixtures } from '../support/fixtures';
import { startIamDoor } from '../support/iam-door';
import type { IamDoor } from '../support/iam-door';
import { checkSignature } from '../support/sigv4-verifier';

const credentials = { accessKeyId: 'AKIDCLIENTTEST', secretAccessKey: 'client-test-secret' };

let local: LocalGateway;
let connect: ConnectSimulator;
let door: IamDoor;
let fx: ReturnType<typeof connectFixtures>;

beforeAll(async () => {
  local = await startLocalGateway({ port: 0 });
  connect = local.connect!;
  door = await startIamDoor(local.url, credentials);
  fx = connectFixtures(connect);
});
afterAll(async () => {
  await door?.close();
  await local?.close();
});
beforeEach(() => {
  connect.setLatency(0);
  connect.setLatency(0, 'TransferContact');
});

/** Every answer the client received, for asserting what it retried. */
function recordingFetch(): { fetch: typeof fetch; statuses: number[]; bodies: string[] } {
  const statuses: number[] = [];
  const bodies: string[] = [];
  return {
    statuses,
    bodies,
    fetch: async (input, init) => {
      bodies.push(String(init?.body));
      const response = await fetch(input, init);
      statuses.push(response.status);
      return response;
    },
  };
}

/** Stands in for a deployed API: records each request as sent and answers with a transfer. */
function answeringFetch(): { fetch: typeof fetch; sent: { url: URL; headers: Record<string, string>; body: string }[] } {
  const sent: { url: URL; headers: Record<string, string>; body: string }[] = [];
  return {
    sent,
    fetch: async (input, init) => {
      sent.push({ url: new URL(String(input)), headers: Object.fromEntries(new Headers(init?.headers)), body: String(init?.body) });
      return Response.json({ ContactId: randomUUID(), ContactArn: 'arn:aws:connect:ap-southeast-2:111122223333:instance/i/contact/c' });
    },
  };
}

/** A port that was just free: nothing listens there, so a connection is refused. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

const client = (options: Partial<TransferClientOptions> = {}) =>
  createTransferClient({ endpoint: door.url, region: 'eu-west-2', credentials, baseDelayMs: 20, ...options });
const queueTransfer = () => ({ ContactId: fx.contact(), ContactFlowId: fx.flows.inbound, QueueId: fx.queues.enabled });
const transfersOf = (contactId: string) => connect.calls('TransferContact').filter((call) => call.input.ContactId === contactId && call.status === 200);

describe('transferContact', () => {
  it('transfers a contact and answers with the new segment, not replayed', async () => {
    const request = queueTransfer();
    const result = await client().transferContact(request);

    expect(result.replayed).toBe(false);
    expect(result.ContactId).not.toBe(request.ContactId);
    expect(result.ContactArn).toBe(`${local.instanceArn}/contact/${result.ContactId}`);
    expect(connect.contact(request.ContactId)?.DisconnectTimestamp).toBeDefined();
    expect(connect.contact(result.ContactId)?.PreviousContactId).toBe(request.ContactId);
  });

  it('replays through the same ClientToken: same answer, marked replayed, one transfer in Connect', async () => {
    const request = { ...queueTransfer(), ClientToken: randomUUID() };
    const first = await client().transferContact(request);
    const again = await client().transferContact(request);

    expect(again).toEqual({ ...first, replayed: true });
    expect(transfersOf(request.ContactId)).toHaveLength(1);
  });

  it('sends no token of its own: every attempt of a token-less call is the same request, one transfer in Connect', async () => {
    const request = queueTransfer();
    const recorder = recordingFetch();
    // More throttles than the Lambda's SDK retries: the gateway answers 429 once, then the retry goes through.
    connect.failNext('TransferContact', 3, 'throttle');
    const result = await client({ fetch: recorder.fetch, maxAttempts: 4 }).transferContact(request);

    expect(recorder.statuses).toEqual([429, 200]);
    expect(recorder.bodies.map((body) => JSON.parse(body) as unknown)).toEqual([request, request]);
    expect(result.replayed).toBe(false);
    expect(transfersOf(request.ContactId)).toHaveLength(1);
  });

  it('without a token, an attempt that timed out after Connect accepted is answered by the retry, not transferred again', async () => {
    const request = queueTransfer();
    // The first attempt gives up while the gateway is still transferring; the retries meet the gateway's payload key
    // (409 in progress, then the stored result).
    connect.setLatency(500, 'TransferContact');
    const recorder = recordingFetch();
    // Patient enough for the first attempt to wait for its pacing slot too (local mode paces at Connect's 2/s, and the
    // tests before this one spent the burst): the retries stop as soon as the stored result answers.
    const result = await client({ fetch: recorder.fetch, requestTimeoutMs: 200, maxAttempts: 40, baseDelayMs: 100, maxDelayMs: 200 }).transferContact(request);

    expect(result.replayed).toBe(true);
    expect(transfersOf(request.ContactId)).toHaveLength(1);
    expect(connect.contact(result.ContactId)?.PreviousContactId).toBe(request.ContactId);
  });

  it('without a token, the same request made again is a replay of the first', async () => {
    const request = queueTransfer();
    const first = await client().transferContact(request);
    const again = await client().transferContact(request);

    expect(again).toEqual({ ...first, replayed: true });
    expect(transfersOf(request.ContactId)).toHaveLength(1);
  });

  it('retries 409 REQUEST_IN_PROGRESS until the first request finishes, then answers with its result', async () => {
    const request = { ...queueTransfer(), ClientToken: randomUUID() };
    connect.setLatency(600, 'TransferContact');
    const recorder = recordingFetch();
    const patient = client({ fetch: recorder.fetch, maxAttempts: 10, baseDelayMs: 150 });
    const first = patient.transferContact(request);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Whichever of the two reaches the lock second is told 409 and waits it out; on a busy machine it may be either.
    const results = await Promise.all([first, patient.transferContact(request)]);

    expect(recorder.statuses).toContain(409);
    expect(recorder.statuses.filter((status) => status !== 409)).toEqual([200, 200]);
    expect(new Set(results.map((result) => result.ContactId)).size).toBe(1);
    expect(results.map((result) => result.replayed).sort()).toEqual([false, true]);
    expect(transfersOf(request.ContactId)).toHaveLength(1);
  });

  it('surfaces a rule rejection as a typed error at once, without retrying', async () => {
    const recorder = recordingFetch();
    const request = { ContactId: fx.contact(), ContactFlowId: fx.flows.inbound, QueueId: fx.queues.disabled };
    const error = await client({ fetch: recorder.fetch }).transferContact(request).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(TransferContactError);
    expect(error).toMatchObject({ reason: 'QUEUE_DISABLED', type: 'InvalidRequestException', status: 400, attempts: 1, retryable: false });
    expect((error as TransferContactError).requestId).toBeTruthy();
    expect((error as TransferContactError).message).toMatch(/queue/i);
    expect(recorder.statuses).toEqual([400]);
  });

  it('carries the field messages of a validation failure', async () => {
    const error = (await client()
      .transferContact({ ContactId: fx.contact(), ContactFlowId: fx.flows.inbound, QueueId: fx.queues.enabled, UserId: fx.users.agent })
      .catch((caught: unknown) => caught)) as TransferContactError;

    expect(error.reason).toBe('QUEUE_AND_USER_BOTH_SET');
    const invalid = (await client()
      .transferContact({ ContactId: '', ContactFlowId: fx.flows.inbound })
      .catch((caught: unknown) => caught)) as TransferContactError;
    expect(invalid.reason).toBe('VALIDATION_FAILED');
    expect(invalid.fields?.map((field) => field.Field)).toContain('ContactId');
  });

  it('gives up after the attempt limit and says the last answer; the same request later transfers once', async () => {
    const request = queueTransfer();
    const callsBefore = connect.callCount('TransferContact');
    // The Lambda's SDK makes 3 attempts per gateway call; 2 gateway calls use up exactly these.
    connect.failNext('TransferContact', 6, 'internal');
    const error = (await client({ maxAttempts: 2 })
      .transferContact(request)
      .catch((caught: unknown) => caught)) as TransferContactError;

    expect(connect.callCount('TransferContact') - callsBefore).toBe(6);
    expect(error).toMatchObject({ reason: 'UPSTREAM_FAILURE', status: 500, attempts: 2, retryable: true, clientToken: undefined });
    expect(error.toJSON()).toMatchObject({ IdempotencyKey: 'payload (ContactId, ContactFlowId, QueueId, UserId, Note, Conditions)' });
    const later = await client().transferContact(request);
    expect(later.replayed).toBe(false);
    expect(transfersOf(request.ContactId)).toHaveLength(1);
  });

  it('reports no answer at all as a retryable network error', async () => {
    const error = (await createTransferClient({ endpoint: await closedPortUrl(), region: 'eu-west-2', credentials, maxAttempts: 2, baseDelayMs: 1 })
      .transferContact(queueTransfer())
      .catch((caught: unknown) => caught)) as TransferContactError;

    expect(error).toMatchObject({ reason: 'NETWORK_ERROR', status: 0, attempts: 2 });
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('rejects an endpoint that is not an absolute http(s) URL when the client is made', () => {
    expect(() => createTransferClient({ endpoint: 'execute-api/prod', region: 'eu-west-2', credentials })).toThrow(/absolute URL/);
    expect(() => createTransferClient({ endpoint: door.url, region: 'eu-west-2', credentials, maxAttempts: 0 })).toThrow(/maxAttempts/);
    // The stack's TransferUrl output is the route itself; the client would otherwise request the route twice over.
    expect(() => createTransferClient({ endpoint: 'https://abc.execute-api.eu-west-2.amazonaws.com/prod/contact/transfer/', region: 'eu-west-2', credentials })).toThrow(
      /ApiEndpoint output\), without \/contact\/transfer/,
    );
  });
});

describe('SigV4 signing', () => {
  it('signs for execute-api in the configured Region, and the signature holds for the request as it arrived', async () => {
    const before = door.checks.length;
    await client({ region: 'ap-southeast-2' }).transferContact({ ...queueTransfer(), ClientToken: randomUUID() });
    const [check] = door.checks.slice(before);

    expect(check).toMatchObject({ valid: true, accessKeyId: credentials.accessKeyId, scope: { region: 'ap-southeast-2', service: 'execute-api' } });
    expect(check?.signedHeaders).toEqual(expect.arrayContaining(['host', 'x-amz-date', 'content-type']));
  });

  it('signs the session token of temporary credentials (roles, SSO), as API Gateway requires', async () => {
    const before = door.checks.length;
    await client({ credentials: { ...credentials, sessionToken: 'temporary-session-token' } }).transferContact(queueTransfer());
    const [check] = door.checks.slice(before);

    expect(check?.valid).toBe(true);
    expect(check?.signedHeaders).toContain('x-amz-security-token');
  });

  it('is refused by the IAM door when signed with the wrong secret, and is not retried', async () => {
    const recorder = recordingFetch();
    const wrong = { ...credentials, secretAccessKey: 'not-the-secret' };
    const request = queueTransfer();
    const error = (await client({ credentials: wrong, fetch: recorder.fetch })
      .transferContact(request)
      .catch((caught: unknown) => caught)) as TransferContactError;

    expect(error).toMatchObject({ reason: 'INVALID_SIGNATURE', type: 'AccessDeniedException', status: 403, attempts: 1, retryable: false });
    expect(error.message).toContain('signature does not match');
    expect(recorder.statuses).toEqual([403]);
    expect(transfersOf(request.ContactId)).toHaveLength(0);
  });

  it('signs a history read, path and query string included, as API Gateway checks it', async () => {
    const gateway = client();
    const first = await gateway.transferContact(queueTransfer());
    const request = { ContactId: first.ContactId, ContactFlowId: fx.flows.inbound, QueueId: fx.queues.enabled };
    await gateway.transferContact(request);
    const before = door.checks.length;
    const page = await gateway.listContactTransfers({ ContactId: first.ContactId, MaxResults: 1 });
    const next = await gateway.listContactTransfers({ ContactId: first.ContactId, MaxResults: 1, NextToken: page.NextToken! });
    const checks = door.checks.slice(before);

    expect(checks).toHaveLength(2);
    for (const check of checks) expect(check).toMatchObject({ valid: true, scope: { service: 'execute-api' } });
    expect(checks[0]?.signedHeaders).not.toContain('content-type');
    expect([...page.Transfers, ...next.Transfers].map((transfer) => transfer.TransferNumber)).toEqual([1, 2]);
  });

  it('against a deployed API signs for the Region its execute-api host name carries, with the default credential chain when given no credentials', async () => {
    const endpoint = 'https://a1b2c3d4e5.execute-api.ap-southeast-2.amazonaws.com/prod';
    const deployed = answeringFetch();
    // The default chain reads the environment first.
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
    try {
      await createTransferClient({ endpoint, fetch: deployed.fetch }).transferContact(queueTransfer());
    } finally {
      process.env.AWS_ACCESS_KEY_ID = saved.id;
      process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    }
    const [sent] = deployed.sent;
    expect(sent?.url.href).toBe(`${endpoint}/contact/transfer`);
    const check = checkSignature({ method: 'POST', path: sent!.url.pathname, headers: { ...sent!.headers, host: sent!.url.host }, body: sent!.body }, credentials.secretAccessKey);
    expect(check).toMatchObject({ valid: true, accessKeyId: credentials.accessKeyId, scope: { region: 'ap-southeast-2', service: 'execute-api' } });
  });

  it('asks for the Region of an endpoint whose host name does not carry one (a custom domain), before sending anything', () => {
    expect(() => createTransferClient({ endpoint: 'https://transfers.example.com/prod', credentials })).toThrow(/region is required for transfers\.example\.com/);
    expect(() => createTransferClient({ endpoint: 'https://transfers.example.com/prod', region: 'eu-west-2', credentials })).not.toThrow();
  });

  it('against local mode needs no Region and no credentials: the request goes unsigned, as local mode checks no signature', async () => {
    const sent: Headers[] = [];
    const recording: typeof fetch = (input, init) => {
      sent.push(new Headers(init?.headers));
      return fetch(input, init);
    };
    const request = queueTransfer();
    const result = await createTransferClient({ endpoint: local.url, fetch: recording }).transferContact(request);

    expect(result.replayed).toBe(false);
    expect(transfersOf(request.ContactId)).toHaveLength(1);
    expect(sent.map((headers) => headers.has('authorization'))).toEqual([false]);
    expect(local.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('the verifier agrees with the example AWS publishes for SigV4 (IAM ListUsers, 2015-08-30)', () => {
    const check = checkSignature(
      {
        method: 'GET',
        path: '/',
        query: 'Action=ListUsers&Version=2010-05-08',
        headers: {
          'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
          host: 'iam.amazonaws.com',
          'x-amz-date': '20150830T123600Z',
          authorization:
            'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
        },
        body: '',
      },
      'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    );
    expect(check.valid).toBe(true);
  });
});

describe('answers without the contract body: an API Gateway without the stack gateway responses, a proxy', () => {
  const answering = (...answers: Response[]): { fetch: typeof fetch; calls: () => number } => {
    let calls = 0;
    return { fetch: () => Promise.resolve(answers[Math.min(calls++, answers.length - 1)]!), calls: () => calls };
  };
  const request = { ContactId: 'c', ContactFlowId: 'f', QueueId: 'q' };

  it('takes the type of a bare 4xx from x-amzn-ErrorType and does not retry it', async () => {
    const stub = answering(new Response('{"message":"Forbidden"}', { status: 403, headers: { 'x-amzn-ErrorType': 'AccessDeniedException:http://internal.amazon.com/coral/' } }));
    const error = (await client({ fetch: stub.fetch }).transferContact(request).catch((caught: unknown) => caught)) as TransferContactError;

    expect(error).toMatchObject({ reason: 'GATEWAY_REJECTED', type: 'AccessDeniedException', message: 'Forbidden', status: 403 });
    expect(stub.calls()).toBe(1);
  });

  it('retries 409 TRANSFER_IN_PROGRESS (another key is transferring the contact) and answers with what the rules say once it settled', async () => {
    const inProgress = () =>
      new Response('{"Type":"ResourceConflictException","ReasonCode":"TRANSFER_IN_PROGRESS","Message":"Another request is transferring this contact."}', {
        status: 409,
        headers: { 'x-amzn-ErrorType': 'ResourceConflictException' },
      });
    const ended = new Response('{"Type":"InvalidRequestException","ReasonCode":"CONTACT_NOT_ACTIVE","Message":"The contact has ended."}', {
      status: 400,
      headers: { 'x-amzn-ErrorType': 'InvalidRequestException' },
    });
    const stub = answering(inProgress(), ended);
    const error = (await client({ fetch: stub.fetch, maxAttempts: 3, baseDelayMs: 1 }).transferContact(request).catch((caught: unknown) => caught)) as TransferContactError;

    expect(error).toMatchObject({ reason: 'CONTACT_NOT_ACTIVE', status: 400, attempts: 2, retryable: false });
    expect(stub.calls()).toBe(2);
  });

  it('retries a bare 5xx and a bare 429, then succeeds', async () => {
    const ok = new Response('{"ContactId":"n","ContactArn":"arn:aws:connect:eu-west-2:1:instance/i/contact/n"}', { status: 200, headers: { 'Idempotent-Replayed': 'true' } });
    const stub = answering(new Response('', { status: 504 }), new Response('{"message":"Too Many Requests"}', { status: 429 }), ok);
    const result = await client({ fetch: stub.fetch, maxAttempts: 3 }).transferContact(request);

    expect(result).toEqual({ ContactId: 'n', ContactArn: 'arn:aws:connect:eu-west-2:1:instance/i/contact/n', replayed: true });
    expect(stub.calls()).toBe(3);
  });

  it('reports a success without ContactId and ContactArn as an invalid response, not as a transfer', async () => {
    const stub = answering(new Response('<html>captive portal</html>', { status: 200 }));
    const error = (await client({ fetch: stub.fetch }).transferContact(request).catch((caught: unknown) => caught)) as TransferContactError;

    expect(error).toMatchObject({ reason: 'INVALID_RESPONSE', status: 200, retryable: false });
  });
});

describe('backoff', () => {
  it('grows exponentially with full jitter and never exceeds the cap', () => {
    const samples = (retry: number) => Array.from({ length: 200 }, () => fullJitter(retry, 100, 1000));
    expect(Math.max(...samples(1))).toBeLessThan(100);
    expect(Math.max(...samples(3))).toBeLessThan(400);
    expect(Math.max(...samples(3))).toBeGreaterThanOrEqual(100);
    expect(Math.max(...samples(10))).toBeLessThan(1000);
    expect(new Set(samples(10)).size).toBeGreaterThan(50);
  });
});
