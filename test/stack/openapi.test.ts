import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import * as zod from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REASONS } from '../../lambda/domain/errors';
import { startLocalGateway } from '../../local/local-gateway';
import type { LocalGateway } from '../../local/local-gateway';
import { createTransferClient } from '../../client/index';
import { EDGE_ERRORS, OPENAPI_PATH, openApiDocument, renderOpenApi } from '../../lib/openapi';
import type { ConnectSimulator } from '../../simulator/connect-simulator';
import { connectFixtures } from '../support/fixtures';
import { all, synthesize } from './synth';
import type { Synthesized } from './synth';

/**
 * docs/openapi.json is what teams in other languages generate clients from: it must be the generator's output, say
 * what the deployed API's model and methods say, and describe the answers the gateway really gives.
 */
interface Operation {
  readonly operationId: string;
  readonly responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
}
type Schema = Record<string, unknown>;
interface Document {
  readonly paths: Record<string, Record<string, Operation>>;
  readonly components: { readonly schemas: Record<string, Schema>; readonly securitySchemes: Record<string, Schema> };
  readonly security: unknown;
}
const lowerFirst = (name: string) => `${name[0]!.toLowerCase()}${name.slice(1)}`;
const committed = JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')) as Document;

/** The document's own `$ref`s, resolved in place, so a JSON-schema validator can take a response schema alone. */
function resolved(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(resolved);
  if (typeof schema !== 'object' || schema === null) return schema;
  const reference = (schema as { $ref?: string }).$ref;
  if (reference) return resolved(committed.components.schemas[reference.replace('#/components/schemas/', '')]);
  return Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, resolved(value)]));
}

function responseSchema(path: string, method: string, status: number): zod.ZodType {
  const responses = committed.paths[path]?.[method]?.responses ?? {};
  const response = responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default;
  const schema = response?.content?.['application/json']?.schema;
  if (!schema) throw new Error(`no response schema for ${method} ${path} ${status}`);
  return zod.fromJSONSchema(resolved(schema) as never);
}

describe('docs/openapi.json', () => {
  it('is what `npm run openapi` generates from the request schema and the error table', () => {
    expect(readFileSync(OPENAPI_PATH, 'utf8'), 'docs/openapi.json is stale: run npm run openapi').toBe(renderOpenApi());
  });

  it('describes every route, each operation named as the typed client names its method, every one signed with SigV4 for API Gateway', () => {
    const operations = Object.entries(committed.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => `${method} ${path} ${operation.operationId}`));
    expect(operations.sort()).toEqual([
      'delete /contact/transfer/schedules/{ScheduleId} CancelContactTransferSchedule',
      'get /contact/transfer/schedules ListContactTransferSchedules',
      'get /contact/transfer/schedules/{ScheduleId} GetContactTransferSchedule',
      'get /contact/transfers/{ContactId} ListContactTransfers',
      'post /contact/transfer TransferContact',
      'post /contact/transfer/schedules ScheduleContactTransfer',
    ]);
    const client = createTransferClient({ endpoint: 'http://127.0.0.1:1/prod' });
    for (const operation of operations) expect(client, operation).toHaveProperty(lowerFirst(operation.split(' ')[2]!));
    expect(committed.security).toEqual([{ sigv4: [] }]);
    expect(committed.components.securitySchemes.sigv4).toEqual({ type: 'apiKey', name: 'Authorization', in: 'header', 'x-amazon-apigateway-authtype': 'awsSigv4' });
  });

  it('lists, for each schedule operation, the reasons of contract section 12 it can answer and no Connect refusal', () => {
    const reasonsOf = (path: string, method: string) =>
      Object.entries(committed.paths[path]?.[method]?.responses ?? {}).map(([status, response]) => `${status} ${(response as { description: string }).description}`);
    expect(reasonsOf('/contact/transfer/schedules', 'post')).toEqual(expect.arrayContaining([expect.stringMatching(/^409 .*SCHEDULE_LIMIT_REACHED/), expect.stringMatching(/^403 .*INSTANCE_NOT_ALLOWED/)]));
    expect(reasonsOf('/contact/transfer/schedules/{ScheduleId}', 'get')).toContainEqual(expect.stringMatching(/^404 ResourceNotFoundException: SCHEDULE_NOT_FOUND$/));
    expect(reasonsOf('/contact/transfer/schedules/{ScheduleId}', 'delete')).toContainEqual('409 ResourceConflictException: SCHEDULE_ALREADY_FIRED');
    for (const path of ['/contact/transfer/schedules', '/contact/transfer/schedules/{ScheduleId}']) {
      for (const method of Object.keys(committed.paths[path] ?? {})) {
        expect(reasonsOf(path, method).join('\n'), `${method} ${path}`).not.toMatch(/CONTACT_NOT_FOUND|CONNECT_REJECTED|TRANSFER_LIMIT_REACHED|^default/m);
      }
    }
  });

  it("lists every reason of the function's error table under its status and type", () => {
    const transfer = openApiDocument() as unknown as Document;
    for (const [reason, { status, type }] of Object.entries(REASONS)) {
      const schema = transfer.components.schemas[type] as { properties: { ReasonCode: { enum: string[] } } };
      expect(schema.properties.ReasonCode.enum, reason).toContain(reason);
      expect(JSON.stringify(transfer.paths['/contact/transfer']?.post?.responses[String(status)]), reason).toContain(`#/components/schemas/${type}`);
    }
  });
});

describe('docs/openapi.json against the synthesized API', () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthesize();
  });
  afterAll(() => synth?.cleanup());

  it.each([
    ['TransferContactRequest', 'TransferContactRequest'],
    ['ScheduleTransferRequest', 'ScheduleContactTransferRequest'],
  ])('has the request model API Gateway validates with (%s): the same members, limits and required ones', (modelName, schemaName) => {
    const model = all(synth.template, 'AWS::ApiGateway::Model').find((candidate) => (candidate.Properties as { Name?: string }).Name === modelName);
    const edge = (model?.Properties as { Schema: Schema }).Schema as { properties: Record<string, Schema>; required: string[]; additionalProperties: boolean };
    const described = committed.components.schemas[schemaName] as typeof edge;
    expect(described.required).toEqual(edge.required);
    expect(described.additionalProperties).toBe(edge.additionalProperties);
    expect(Object.keys(described.properties)).toEqual(Object.keys(edge.properties));
    for (const [member, limits] of Object.entries(edge.properties)) expect(described.properties[member], member).toMatchObject(limits);
  });

  it('describes every method the API deploys, each with IAM authorisation', () => {
    const resources = synth.template.findResources('AWS::ApiGateway::Resource') as Record<string, { Properties: { ParentId: unknown; PathPart: string } }>;
    const pathOf = (id: unknown): string => {
      const logicalId = (id as { Ref?: string }).Ref;
      const resource = logicalId ? resources[logicalId] : undefined;
      return resource ? `${pathOf(resource.Properties.ParentId)}/${resource.Properties.PathPart}` : '';
    };
    const methods = all(synth.template, 'AWS::ApiGateway::Method').map((method) => {
      const properties = method.Properties as { HttpMethod: string; ResourceId: unknown; AuthorizationType: string };
      return { route: `${properties.HttpMethod.toLowerCase()} ${pathOf(properties.ResourceId)}`, authorization: properties.AuthorizationType };
    });
    const described = Object.entries(committed.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method} ${path}`));
    for (const { route, authorization } of methods) {
      expect(described, route).toContain(route);
      expect(authorization, route).toBe('AWS_IAM');
    }
    expect(described.filter((route) => !methods.some((method) => method.route === route))).toEqual([]);
  });

  it("lists every reason the API's own gateway responses answer with, under their status and type", () => {
    const gatewayResponses = all(synth.template, 'AWS::ApiGateway::GatewayResponse').map((response) => {
      const properties = response.Properties as { StatusCode?: string; ResponseTemplates: Record<string, string>; ResponseParameters: Record<string, string> };
      const template = properties.ResponseTemplates['application/json'] ?? '';
      return {
        status: properties.StatusCode === undefined ? undefined : Number(properties.StatusCode),
        type: properties.ResponseParameters['gatewayresponse.header.x-amzn-ErrorType']?.replace(/'/g, ''),
        reason: /"ReasonCode":"([A-Z_]+)"/.exec(template)?.[1],
      };
    });
    const literal = gatewayResponses.filter((response) => response.reason !== undefined);
    expect(new Set(literal.map(({ reason, status, type }) => JSON.stringify({ reason, status, type })))).toEqual(
      new Set(EDGE_ERRORS.map(({ reason, status, type }) => JSON.stringify({ reason, status, type }))),
    );
    // The one response whose reason is API Gateway's response type keeps API Gateway's status: the document's 4XX.
    expect(gatewayResponses.filter((response) => response.reason === undefined)).toEqual([{ status: undefined, type: 'InvalidRequestException', reason: undefined }]);
    expect(committed.paths['/contact/transfer']?.post?.responses['4XX']).toBeDefined();
  });
});

describe('docs/openapi.json against real answers of local mode', () => {
  let local: LocalGateway;
  let connect: ConnectSimulator;
  let fx: ReturnType<typeof connectFixtures>;
  beforeAll(async () => {
    // One transfer per tree, so the limit's answer takes two requests instead of twelve.
    local = await startLocalGateway({ port: 0, env: { ...process.env, MAX_TRANSFERS: '1' } });
    connect = local.connect!;
    fx = connectFixtures(connect);
  });
  afterAll(() => local?.close());

  const post = async (body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${local.url}/contact/transfer`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
    return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
  };
  const transfer = () => ({ ContactId: fx.contact(), ContactFlowId: fx.flows.inbound, QueueId: fx.queues.enabled });

  it('a transfer and its replay match the 200 response', async () => {
    const request = { ...transfer(), ClientToken: randomUUID() };
    for (const answer of [await post(request), await post(request)]) {
      expect(answer.status).toBe(200);
      expect(responseSchema('/contact/transfer', 'post', 200).safeParse(answer.body).success).toBe(true);
    }
  });

  const cases: [string, number, () => Promise<Awaited<ReturnType<typeof post>>>][] = [
    ['VALIDATION_FAILED', 400, () => post({ ContactId: '', ContactFlowId: 'f', QueueID: 'typo' })],
    ['QUEUE_DISABLED', 400, () => post({ ...transfer(), QueueId: fx.queues.disabled })],
    [
      'TRANSFER_LIMIT_REACHED',
      402,
      async () => {
        const first = await post(transfer());
        return post({ ContactId: first.body.ContactId, ContactFlowId: fx.flows.inbound, QueueId: fx.queues.enabled });
      },
    ],
    ['INSTANCE_NOT_ALLOWED', 403, () => post({ ...transfer(), InstanceId: randomUUID() })],
    ['CONTACT_NOT_FOUND', 404, () => post({ ...transfer(), ContactId: fx.unknownId() })],
    [
      'CLIENT_TOKEN_REUSED',
      409,
      async () => {
        const token = randomUUID();
        await post({ ...transfer(), ClientToken: token });
        return post({ ...transfer(), ClientToken: token });
      },
    ],
    [
      'THROTTLED',
      429,
      () => {
        connect.failNext('TransferContact', 3, 'throttle');
        return post(transfer());
      },
    ],
    [
      'UPSTREAM_FAILURE',
      500,
      () => {
        connect.failNext('TransferContact', 3, 'internal');
        return post(transfer());
      },
    ],
  ];

  it.each(cases)('%s (%i) matches the response the document gives for its status', async (reason, status, answer) => {
    const { status: actual, headers, body } = await answer();
    expect(actual).toBe(status);
    expect(body.ReasonCode).toBe(reason);
    expect(headers.get('x-amzn-ErrorType')).toBe(body.Type);
    const parsed = responseSchema('/contact/transfer', 'post', status).safeParse(body);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  });

  it('a page of history, and a refused query, match the history responses', async () => {
    const first = await post(transfer());
    const history = await fetch(`${local.url}/contact/transfers/${String(first.body.ContactId)}?MaxResults=5`);
    const page = (await history.json()) as { Transfers: unknown[] };
    expect(history.status).toBe(200);
    expect(page.Transfers).toHaveLength(1);
    expect(responseSchema('/contact/transfers/{ContactId}', 'get', 200).safeParse(page).success).toBe(true);

    const refused = await fetch(`${local.url}/contact/transfers/${String(first.body.ContactId)}?MaxResults=0`);
    const body = (await refused.json()) as Record<string, unknown>;
    expect(refused.status).toBe(400);
    expect(responseSchema('/contact/transfers/{ContactId}', 'get', 400).safeParse(body).success).toBe(true);
  });

  it("the schedule routes' answers match their responses: create, replay, read, list, cancel and their refusals", async () => {
    const schedules = `${local.url}/contact/transfer/schedules`;
    const answer = async (url: string, init?: RequestInit) => {
      const response = await fetch(url, init);
      const text = await response.text();
      return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>) };
    };
    const create = (body: unknown) => answer(schedules, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const matches = (path: string, method: string, { status, body }: { status: number; body: unknown }) => {
      const parsed = responseSchema(path, method, status).safeParse(body);
      expect(parsed.success, `${method} ${path} ${status}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
    };
    const one = '/contact/transfer/schedules/{ScheduleId}';

    const request = { ...transfer(), Note: 'escalate', Conditions: { NotWithAgent: true }, AfterSeconds: 3600 };
    const created = await create(request);
    expect(created.status).toBe(201);
    matches('/contact/transfer/schedules', 'post', created);
    matches('/contact/transfer/schedules', 'post', await create(request));
    const id = String(created.body?.ScheduleId);
    const read = await answer(`${schedules}/${id}`);
    expect(read.status).toBe(200);
    matches(one, 'get', read);
    const page = await answer(`${schedules}?ContactId=${request.ContactId}&MaxResults=1`);
    expect((page.body?.Schedules as unknown[]).length).toBe(1);
    matches('/contact/transfer/schedules', 'get', page);
    expect((await answer(`${schedules}/${id}`, { method: 'DELETE' })).status).toBe(204);
    const cancelled = await answer(`${schedules}/${id}`);
    expect(cancelled.body?.State).toBe('CANCELLED');
    matches(one, 'get', cancelled);

    const refusals = [
      ['/contact/transfer/schedules', 'post', await create({ ...transfer(), AfterSeconds: 30 }), 'VALIDATION_FAILED'],
      ['/contact/transfer/schedules', 'post', await create({ ...transfer(), InstanceId: randomUUID(), AfterSeconds: 600 }), 'INSTANCE_NOT_ALLOWED'],
      ['/contact/transfer/schedules', 'get', await answer(`${schedules}?MaxResults=5`), 'VALIDATION_FAILED'],
      [one, 'get', await answer(`${schedules}/sch-00000000000000000000000000000000`), 'SCHEDULE_NOT_FOUND'],
      [one, 'delete', await answer(`${schedules}/not-a-schedule`, { method: 'DELETE' }), 'SCHEDULE_NOT_FOUND'],
    ] as const;
    for (const [path, method, refused, reason] of refusals) {
      expect(refused.body?.ReasonCode, `${method} ${path}`).toBe(reason);
      matches(path, method, refused);
    }
  });

  it('would catch an answer the document does not describe', () => {
    expect(responseSchema('/contact/transfer/schedules/{ScheduleId}', 'get', 200).safeParse({ ScheduleId: 'sch-1', ContactId: 'c', At: 'a', State: 'WAITING', CreatedAt: 'c', Request: {} }).success).toBe(false);
    expect(responseSchema('/contact/transfer/schedules/{ScheduleId}', 'delete', 409).safeParse({ Type: 'ResourceConflictException', ReasonCode: 'SCHEDULE_ALREADY_FIRED', Message: 'm' }).success).toBe(true);
    expect(responseSchema('/contact/transfer', 'post', 400).safeParse({ Type: 'InvalidRequestException', ReasonCode: 'CONTACT_NOT_FOUND', Message: 'm' }).success).toBe(false);
    expect(responseSchema('/contact/transfer', 'post', 200).safeParse({ ContactId: 'c' }).success).toBe(false);
  });

  it('is served at GET /openapi.json, with local mode as the server', async () => {
    const response = await fetch(`${local.url}/openapi.json`);
    const served = (await response.json()) as Document & { servers: { url: string }[] };
    expect(response.status).toBe(200);
    expect({ ...served, servers: undefined }).toEqual({ ...committed, servers: undefined });
    expect(served.servers).toEqual([{ url: local.url, description: 'local mode (no SigV4 check)' }]);
  });
});
