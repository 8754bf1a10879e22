import * as connect from '@aws-sdk/client-connect';
import { describe, expect, it } from 'vitest';
import { REASONS, TransferError } from '../../lambda/domain/errors';
import type { KnownReason } from '../../lambda/domain/errors';
import { httpDoor } from '../../lambda/doors/http';
import { EDGE_ERRORS } from '../../lib/openapi';

/**
 * Contract section 5: Connect's own clients parse the gateway's error bodies against Connect's model, so no body member
 * may reuse a name the model gives that exception with another type (a string `Reason` where the model has a
 * structure crashes the AWS CLI and mistypes the JavaScript SDK's error). The model is the one the installed
 * `@aws-sdk/client-connect` carries: its error schemas `[-3, namespace, name, traits, memberNames, memberSchemas]`.
 */
type ErrorSchema = readonly [number, string, string, object, readonly string[], readonly unknown[]];

/** What kind of value a model member takes: a string (schema 0), a list, or a structure or union. */
function kindOf(schema: unknown): 'string' | 'list' | 'structure' | 'other' {
  if (schema === 0) return 'string';
  const resolved: unknown = typeof schema === 'function' ? (schema as () => unknown)() : schema;
  if (!Array.isArray(resolved)) return 'other';
  if (resolved[0] === 1) return 'list';
  if (resolved[0] === 3 || resolved[0] === 4 || resolved[0] === -3) return 'structure';
  return 'other';
}

function modelOf(type: string): Map<string, ReturnType<typeof kindOf>> {
  const schema = (connect as unknown as Record<string, ErrorSchema | undefined>)[`${type}$`];
  if (!schema) throw new Error(`Connect's model has no error shape ${type}`);
  const [, , , , names, members] = schema;
  return new Map(names.map((name, index) => [name, kindOf(members[index])]));
}

/** The members of a body as a client reads them, and the kind each value is. */
function membersOf(body: Record<string, unknown>): Map<string, ReturnType<typeof kindOf>> {
  return new Map(Object.entries(body).map(([name, value]) => [name, typeof value === 'string' ? 'string' : Array.isArray(value) ? 'list' : 'structure']));
}

function clashes(type: string, body: Record<string, unknown>): string[] {
  const model = modelOf(type);
  return [...membersOf(body)].flatMap(([name, kind]) => {
    const modelled = model.get(name);
    return modelled === undefined || modelled === kind ? [] : [`${type}.${name}: the body sends a ${kind}, Connect's model says ${modelled}`];
  });
}

const fields = [{ Field: 'ContactId', Message: 'is required' }];
const origin = { door: 'https' as const, caller: 'arn:aws:iam::111122223333:user/alice', correlationId: 'r' };

/** Every body the function answers with: each reason of the table, with Fields where it may carry them. */
const functionBodies = (Object.keys(REASONS) as KnownReason[]).map((reason) => {
  const error = TransferError.of(reason, reason === 'VALIDATION_FAILED' ? { fields } : {});
  return { type: error.type, body: JSON.parse(httpDoor.failed(error, origin).body) as Record<string, unknown> };
});
/** What API Gateway answers before the function runs (lib/gateway-api.ts renders these members). */
const edgeBodies = EDGE_ERRORS.map(({ reason, type }) => ({ type, body: { Type: type, ReasonCode: reason, Message: 'm' } as Record<string, unknown> }));

describe("error bodies against Connect's model (contract section 5)", () => {
  it.each([...functionBodies, ...edgeBodies].map(({ type, body }) => [type, String(body.ReasonCode), body] as const))(
    '%s (%s) reuses no member name with another type',
    (type, _reason, body) => {
      expect(clashes(type, body)).toEqual([]);
    },
  );

  it('every error type the gateway answers with is one of Connect\'s own', () => {
    for (const { type } of [...functionBodies, ...edgeBodies]) expect(() => modelOf(type)).not.toThrow();
  });

  it('would catch a string Reason, which Connect models as a structure on these exceptions', () => {
    expect(clashes('InvalidRequestException', { Type: 'InvalidRequestException', Reason: 'QUEUE_DISABLED', Message: 'm' })).toHaveLength(1);
    expect(clashes('ServiceQuotaExceededException', { Type: 'ServiceQuotaExceededException', Reason: 'TRANSFER_LIMIT_REACHED', Message: 'm' })).toHaveLength(1);
  });
});
