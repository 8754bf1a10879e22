import { describe, expect, it } from 'vitest';
import { parseInstanceArn } from '../../../lambda/domain/arn';
import type { ConnectInstance } from '../../../lambda/domain/arn';
import { TransferError } from '../../../lambda/domain/errors';
import { MAX_JSON_DEPTH, nestsDeeperThan, parseTransferRequest } from '../../../lambda/domain/request';

const INSTANCE_ID = '11111111-1111-4111-8111-111111111111';
const OTHER_ID = '22222222-2222-4222-8222-222222222222';
const INSTANCE_ARN = `arn:aws:connect:eu-west-1:123456789012:instance/${INSTANCE_ID}`;
const OTHER_ARN = `arn:aws:connect:eu-west-1:123456789012:instance/${OTHER_ID}`;
const instance = parseInstanceArn(INSTANCE_ARN) as ConnectInstance;

const base = { ContactId: 'contact-1', ContactFlowId: 'flow-1' };
const text = (length: number): string => 'x'.repeat(length);

function rejectionOf(input: unknown): TransferError {
  try {
    parseTransferRequest(input, instance);
  } catch (error) {
    expect(error).toBeInstanceOf(TransferError);
    return error as TransferError;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
}

function expectValidationFailed(input: unknown, field?: string, message?: RegExp): TransferError {
  const error = rejectionOf(input);
  expect(error).toMatchObject({ reason: 'VALIDATION_FAILED', status: 400, type: 'InvalidRequestException' });
  if (field !== undefined) {
    const fieldError = error.fields?.find((f) => f.Field === field);
    expect(fieldError, `Fields ${JSON.stringify(error.fields)} should name ${field}`).toBeDefined();
    if (message) expect(fieldError?.Message).toMatch(message);
  }
  return error;
}

function expectInstanceNotAllowed(input: unknown): void {
  expect(rejectionOf(input)).toMatchObject({ reason: 'INSTANCE_NOT_ALLOWED', status: 403, type: 'AccessDeniedException' });
}

describe('parseTransferRequest: field limits (rule 1)', () => {
  it.each([
    ['ContactId', 256],
    ['ContactFlowId', 500],
    ['QueueId', 256],
    ['UserId', 256],
    ['ClientToken', 500],
  ])('%s of %i characters is accepted, one more is VALIDATION_FAILED naming the field', (field, limit) => {
    const accepted = parseTransferRequest({ ...base, [field]: text(limit) }, instance);
    expect((accepted as unknown as Record<string, unknown>)[field]).toBe(text(limit));

    expectValidationFailed({ ...base, [field]: text(limit + 1) }, field, new RegExp(`at most ${limit}`));
  });

  it('an InstanceId of 257 characters is VALIDATION_FAILED', () => {
    expectValidationFailed({ ...base, InstanceId: text(257) }, 'InstanceId');
  });

  it.each(['InstanceId', 'ContactId', 'ContactFlowId', 'QueueId', 'UserId', 'ClientToken'])('an empty %s is VALIDATION_FAILED', (field) => {
    expectValidationFailed({ ...base, [field]: '' }, field, /at least 1/);
  });

  const wrongTypes = [
    ['a number', 42],
    ['null', null],
    ['an object', { Id: 'contact-1' }],
    ['an array', ['contact-1']],
    ['a boolean', true],
  ] as const;

  it.each(wrongTypes)('a ContactId that is %s is VALIDATION_FAILED naming ContactId', (_kind, value) => {
    expectValidationFailed({ ...base, ContactId: value }, 'ContactId');
  });

  it.each(['QueueId', 'UserId', 'ClientToken', 'InstanceId'])('an optional %s given as a number is rejected, not ignored', (field) => {
    expectValidationFailed({ ...base, [field]: 7 }, field);
  });

  // A caller who sent ContactId: 42 must not be told that ContactId is missing.
  it.each(wrongTypes)('a ContactId that is %s is reported as "must be a string", not "is required"', (_kind, value) => {
    expectValidationFailed({ ...base, ContactId: value }, 'ContactId', /must be a string/);
  });

  it('an optional member of the wrong type is reported as "must be a string", not "is required"', () => {
    expectValidationFailed({ ...base, QueueId: 7 }, 'QueueId', /must be a string/);
  });

  it.each(['ContactId', 'ContactFlowId'])('a missing %s is reported as "is required"', (field) => {
    const input: Record<string, unknown> = { ...base };
    delete input[field];
    expectValidationFailed(input, field, /is required/);
  });

  it('reports every failing member at once', () => {
    const error = expectValidationFailed({ ContactFlowId: '', QueueId: 5 });
    expect(error.fields?.map((f) => f.Field).sort()).toEqual(['ContactFlowId', 'ContactId', 'QueueId']);
  });
});

describe('parseTransferRequest: unknown members and non-objects (rule 1)', () => {
  it.each([
    ['QueueID', 'QueueId'],
    ['contactflowid', 'ContactFlowId'],
    ['USERID', 'UserId'],
  ])('a misspelt member %s is rejected and suggests %s', (typo, member) => {
    expectValidationFailed({ ...base, [typo]: 'queue-1' }, typo, new RegExp(`did you mean ${member}\\?`));
  });

  it('an unrelated unknown member is rejected and lists the members', () => {
    expectValidationFailed({ ...base, Priority: 1 }, 'Priority', /members: .*ContactFlowId/);
  });

  it.each([
    ['an array', [base]],
    ['a string', JSON.stringify(base)],
    ['null', null],
    ['a number', 1],
    ['undefined', undefined],
  ])('%s is VALIDATION_FAILED', (_kind, input) => {
    const error = expectValidationFailed(input);
    expect(error.message).toMatch(/JSON object/);
  });
});

describe('parseTransferRequest: rule 2, not both a queue and a user', () => {
  it('QueueId and UserId together are QUEUE_AND_USER_BOTH_SET', () => {
    expect(rejectionOf({ ...base, QueueId: 'q', UserId: 'u' })).toMatchObject({
      reason: 'QUEUE_AND_USER_BOTH_SET',
      status: 400,
      type: 'InvalidRequestException',
    });
  });

  it.each([
    ['another InstanceId', { InstanceId: OTHER_ID, QueueId: 'q', UserId: 'u' }],
    ['a queue ARN of another instance', { QueueId: `${OTHER_ARN}/queue/q`, UserId: 'u' }],
  ])('wins over rule 3 (%s)', (_case, extra) => {
    expect(rejectionOf({ ...base, ...extra }).reason).toBe('QUEUE_AND_USER_BOTH_SET');
  });

  it('loses to rule 1: a malformed member is VALIDATION_FAILED even when both are set', () => {
    expectValidationFailed({ ...base, ContactId: '', QueueId: 'q', UserId: 'u' }, 'ContactId');
  });

  it.each([
    ['the flow alone', {}],
    ['a queue', { QueueId: 'q' }],
    ['a user', { UserId: 'u' }],
  ])('a transfer to %s is accepted', (_case, extra) => {
    expect(parseTransferRequest({ ...base, ...extra }, instance)).toEqual({ ...base, ...extra });
  });
});

describe('parseTransferRequest: rule 3, the configured instance only', () => {
  it.each([
    ['another instance id', { InstanceId: OTHER_ID }],
    ['another instance ARN', { InstanceId: OTHER_ARN }],
    ['the same id in another Region', { InstanceId: `arn:aws:connect:us-east-1:123456789012:instance/${INSTANCE_ID}` }],
    ['the same id in another account', { InstanceId: `arn:aws:connect:eu-west-1:210987654321:instance/${INSTANCE_ID}` }],
    ['a queue ARN of another instance', { QueueId: `${OTHER_ARN}/queue/q-1` }],
    ['a user ARN of another instance', { UserId: `${OTHER_ARN}/agent/u-1` }],
    ['a flow ARN of another instance', { ContactFlowId: `${OTHER_ARN}/contact-flow/f-1` }],
  ])('%s is INSTANCE_NOT_ALLOWED', (_case, extra) => {
    expectInstanceNotAllowed({ ...base, ...extra });
  });

  it.each([
    ['the configured id', INSTANCE_ID],
    ['the configured ARN', INSTANCE_ARN],
  ])('an InstanceId given as %s passes and is not part of the request sent on', (_case, InstanceId) => {
    const request = parseTransferRequest({ ...base, InstanceId }, instance);
    expect(request).toEqual(base);
    expect(request).not.toHaveProperty('InstanceId');
  });

  it.each([
    ['QueueId', `${INSTANCE_ARN}/queue/q-1`, 'q-1'],
    ['UserId', `${INSTANCE_ARN}/agent/u-1`, 'u-1'],
    ['ContactFlowId', `${INSTANCE_ARN}/contact-flow/f-1`, 'f-1'],
  ])('a %s ARN of the configured instance resolves to the bare id', (field, arn, id) => {
    const request = parseTransferRequest({ ...base, [field]: arn }, instance);
    expect((request as unknown as Record<string, unknown>)[field]).toBe(id);
  });

  it.each([
    ['QueueId', 'arn:aws:connect:eu-west-1:123456789012:queue'],
    ['QueueId', `${INSTANCE_ARN}/agent/u-1`],
    ['QueueId', `${INSTANCE_ARN}/queue/`],
    ['QueueId', `${INSTANCE_ARN}/queue/q-1/extra`],
    ['UserId', `${INSTANCE_ARN}/user/u-1`],
    ['UserId', 'arn:'],
    ['ContactFlowId', `${INSTANCE_ARN}/flow/f-1`],
  ])('a malformed %s ARN (%s) is VALIDATION_FAILED naming the field and the expected form', (field, value) => {
    expectValidationFailed({ ...base, [field]: value }, field, new RegExp(INSTANCE_ARN.replace(/[/.]/g, '\\$&')));
  });
});

describe('parseTransferRequest: what passes', () => {
  it('keeps ClientToken and drops nothing else the caller sent', () => {
    const input = { ...base, QueueId: 'q', ClientToken: 'token-1' };
    expect(parseTransferRequest(input, instance)).toEqual(input);
  });

  it('does not invent optional members', () => {
    expect(Object.keys(parseTransferRequest(base, instance)).sort()).toEqual(['ContactFlowId', 'ContactId']);
  });
});

describe('rule 1 before rules 2 and 3: a malformed ARN is a shape error', () => {
  const instance = parseInstanceArn('arn:aws:connect:us-east-1:111122223333:instance/inst-1')!;
  it('wins over QUEUE_AND_USER_BOTH_SET and INSTANCE_NOT_ALLOWED', () => {
    for (const input of [
      { ContactId: 'c', ContactFlowId: 'f', QueueId: 'arn:bogus', UserId: 'u' },
      { InstanceId: 'other', ContactId: 'c', ContactFlowId: 'f', QueueId: 'arn:bogus' },
    ]) {
      expect(() => parseTransferRequest(input, instance)).toThrow(expect.objectContaining({ reason: 'VALIDATION_FAILED' }));
    }
  });
});

describe('parseTransferRequest: text must be well-formed Unicode (rule 1)', () => {
  it.each(['InstanceId', 'ContactId', 'ContactFlowId', 'QueueId', 'UserId', 'ClientToken'])('a lone surrogate in %s is VALIDATION_FAILED naming it', (field) => {
    expectValidationFailed({ ...base, [field]: 'id-\ud800' }, field, /well-formed Unicode/);
    expectValidationFailed({ ...base, [field]: '\udc00-id' }, field, /well-formed Unicode/);
  });

  it('a surrogate pair (an emoji) is text like any other', () => {
    expect(parseTransferRequest({ ...base, ClientToken: 'case-😀' }, instance)).toMatchObject({ ClientToken: 'case-😀' });
  });
});

describe('parseTransferRequest: a short error whatever the request held', () => {
  it('lists the first 10 of 1,000 unknown members and says how many there are', () => {
    const input: Record<string, unknown> = { ...base };
    for (let index = 0; index < 1000; index++) input[`Unknown${index}`] = 'x';
    const error = expectValidationFailed(input);
    expect(error.fields).toHaveLength(10);
    expect(error.message).toMatch(/1000 problems, the first 10/);
    expect(JSON.stringify({ Message: error.message, Fields: error.fields }).length).toBeLessThan(2500);
  });

  it('cuts a long unknown member name short when echoing it, never inside a surrogate pair', () => {
    const error = expectValidationFailed({ ...base, ['😀'.repeat(5000)]: 'x' });
    const [field] = error.fields ?? [];
    expect(Array.from(field?.Field ?? '')).toHaveLength(64);
    expect(field?.Field.endsWith('😀…')).toBe(true);
    expect(/\p{Cs}/u.test(field?.Field ?? '')).toBe(false);
  });

  it('echoes a short unknown member name in full', () => {
    expectValidationFailed({ ...base, Priority: 1 }, 'Priority');
  });
});

describe('how deep a JSON text nests, told without parsing it (a bound before anything recurses over it)', () => {
  const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;

  it.each<[string, string, boolean]>([
    ['a flat request', JSON.stringify({ ContactId: 'c', ContactFlowId: 'f' }), false],
    ['exactly the limit', nested(MAX_JSON_DEPTH), false],
    ['one level more', nested(MAX_JSON_DEPTH + 1), true],
    ['5,000 levels of objects', `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`, true],
    ['brackets inside strings, escaped quotes included', JSON.stringify({ ContactId: `\\"${'['.repeat(100)}`, Note: '{'.repeat(100) }), false],
  ])('%s', (_, text, deeper) => {
    expect(nestsDeeperThan(text, MAX_JSON_DEPTH)).toBe(deeper);
  });
});

describe('parseTransferRequest: what the caller is told', () => {
  it.each([
    ['QueueId', { QueueId: `${OTHER_ARN}/queue/q-1` }],
    ['UserId', { UserId: `${OTHER_ARN}/agent/u-1` }],
    ['ContactFlowId', { ContactFlowId: `${OTHER_ARN}/contact-flow/f-1` }],
  ])('a %s of another instance is named in the refusal', (field, extra) => {
    expect(rejectionOf({ ...base, ...extra }).message).toBe(`${field} names a resource of another Amazon Connect instance.`);
  });

  it('an unknown member is answered with every member of the request', () => {
    expectValidationFailed({ ...base, Priority: 1 }, 'Priority', /^is not a member of the request \(members: InstanceId, ContactId, ContactFlowId, QueueId, UserId, ClientToken, Note, Conditions\)$/);
  });

  it.each([1, 10])('%i problems are all listed under the plain sentence', (count) => {
    const input: Record<string, unknown> = { ...base };
    for (let index = 0; index < count; index++) input[`Unknown${index}`] = 'x';
    const error = expectValidationFailed(input);
    expect(error.fields).toHaveLength(count);
    expect(error.message).toBe('The request does not match the TransferContact request shape.');
  });

  it('11 problems: the first 10 listed, and the sentence says how many there are', () => {
    const input: Record<string, unknown> = { ...base };
    for (let index = 0; index < 11; index++) input[`Unknown${index}`] = 'x';
    const error = expectValidationFailed(input);
    expect(error.fields).toHaveLength(10);
    expect(error.message).toMatch(/11 problems, the first 10 listed/);
  });

  it('an unknown member name of exactly 64 characters is echoed in full, one of 65 is cut', () => {
    expectValidationFailed({ ...base, ['m'.repeat(64)]: 1 }, 'm'.repeat(64));
    expectValidationFailed({ ...base, ['m'.repeat(65)]: 1 }, `${'m'.repeat(63)}…`);
  });
});

describe('parseTransferRequest: Note and Conditions (contract sections 2 and 11)', () => {
  it('keeps a Note and every condition the caller asked for, and adds nothing', () => {
    const input = { ...base, QueueId: 'q', Note: 'Customer asked for billing', Conditions: { InQueue: 'q-1', NotWithAgent: true, QueuedForSeconds: 60 } };
    expect(parseTransferRequest(input, instance)).toStrictEqual(input);
  });

  it.each([
    ['NotWithAgent alone', { NotWithAgent: true }],
    ['QueuedForSeconds alone', { QueuedForSeconds: 1 }],
    ['InQueue alone', { InQueue: 'q-1' }],
  ])('%s is kept as the only condition', (_case, Conditions) => {
    expect(parseTransferRequest({ ...base, Conditions }, instance)).toStrictEqual({ ...base, Conditions });
  });

  it('a request without Note and Conditions carries neither, not even as undefined', () => {
    expect(parseTransferRequest({ ...base, ClientToken: 't' }, instance)).toStrictEqual({ ...base, ClientToken: 't' });
  });

  it('an InQueue ARN of the configured instance resolves to the bare queue id', () => {
    expect(parseTransferRequest({ ...base, Conditions: { InQueue: `${INSTANCE_ARN}/queue/q-1` } }, instance)).toStrictEqual({ ...base, Conditions: { InQueue: 'q-1' } });
  });

  it('an InQueue ARN of another instance is INSTANCE_NOT_ALLOWED naming Conditions.InQueue', () => {
    const error = rejectionOf({ ...base, Conditions: { InQueue: `${OTHER_ARN}/queue/q-1` } });
    expect(error).toMatchObject({ reason: 'INSTANCE_NOT_ALLOWED', status: 403 });
    expect(error.message).toBe('Conditions.InQueue names a resource of another Amazon Connect instance.');
  });

  it('an InQueue ARN of an agent is VALIDATION_FAILED naming the queue ARN form', () => {
    const error = expectValidationFailed({ ...base, Conditions: { InQueue: `${INSTANCE_ARN}/agent/u-1` } });
    expect(error.fields).toEqual([{ Field: 'Conditions.InQueue', Message: `must be an id or an ARN of the form ${INSTANCE_ARN}/queue/<id>` }]);
  });

  it.each<[string, unknown, string, string]>([
    ['no condition at all', {}, 'Conditions', 'must name at least one condition (InQueue, NotWithAgent, QueuedForSeconds)'],
    ['not an object', 'InQueue', 'Conditions', 'must be an object'],
    ['null', null, 'Conditions', 'must be an object'],
    ['an unknown condition only', { Priority: 1 }, 'Conditions.Priority', 'is not a member of Conditions (members: InQueue, NotWithAgent, QueuedForSeconds)'],
    ['a misspelt condition', { queuedforseconds: 5 }, 'Conditions.queuedforseconds', 'is not a member of Conditions; did you mean QueuedForSeconds?'],
    ['NotWithAgent false', { NotWithAgent: false }, 'Conditions.NotWithAgent', 'must be true (leave it out to not ask for it)'],
    ['NotWithAgent as text', { NotWithAgent: 'yes' }, 'Conditions.NotWithAgent', 'must be true (leave it out to not ask for it)'],
    ['QueuedForSeconds 0', { QueuedForSeconds: 0 }, 'Conditions.QueuedForSeconds', 'must be at least 1'],
    ['QueuedForSeconds past 30 days', { QueuedForSeconds: 2_592_001 }, 'Conditions.QueuedForSeconds', 'must be at most 2592000'],
    ['QueuedForSeconds as text', { QueuedForSeconds: '60' }, 'Conditions.QueuedForSeconds', 'must be a whole number of seconds from 1 to 2592000'],
    ['QueuedForSeconds with a fraction', { QueuedForSeconds: 1.5 }, 'Conditions.QueuedForSeconds', 'must be a whole number of seconds from 1 to 2592000'],
    ['an empty InQueue', { InQueue: '' }, 'Conditions.InQueue', 'must be at least 1 character(s) long'],
  ])('Conditions with %s is VALIDATION_FAILED with exactly one problem', (_case, Conditions, Field, Message) => {
    expect(expectValidationFailed({ ...base, Conditions }).fields).toEqual([{ Field, Message }]);
  });

  it('the longest wait a condition may ask for, 30 days, is accepted', () => {
    expect(parseTransferRequest({ ...base, Conditions: { QueuedForSeconds: 2_592_000 } }, instance).Conditions).toEqual({ QueuedForSeconds: 2_592_000 });
  });

  it.each([
    ['a line break', 'first line\nforged line'],
    ['a C1 control character', 'note\u0085'],
    ['DEL', 'note\u007f'],
  ])('a Note with %s is VALIDATION_FAILED', (_case, Note) => {
    expect(expectValidationFailed({ ...base, Note }).fields).toEqual([{ Field: 'Note', Message: 'must be printable text (no control characters such as line breaks)' }]);
  });

  it('a Note of printable text in any script is kept', () => {
    expect(parseTransferRequest({ ...base, Note: 'Kundin möchte zur Abrechnung – 😀' }, instance).Note).toBe('Kundin möchte zur Abrechnung – 😀');
  });

  it('text members are told their exact length limits, in characters', () => {
    expect(expectValidationFailed({ ...base, ContactId: '' }).fields).toEqual([{ Field: 'ContactId', Message: 'must be at least 1 character(s) long' }]);
    expect(expectValidationFailed({ ...base, ContactId: text(257) }).fields).toEqual([{ Field: 'ContactId', Message: 'must be at most 256 characters long' }]);
  });
});

describe('how deep a JSON text nests: siblings and scalars are no deeper than their parent', () => {
  it.each<[string, string]>([
    ['40 sibling objects in an array', JSON.stringify(Array.from({ length: 40 }, () => ({})))],
    ['40 sibling arrays in an array', JSON.stringify(Array.from({ length: 40 }, () => []))],
    ['a long flat array of numbers', JSON.stringify(Array.from({ length: 100 }, (_, index) => index))],
    ['a flat object of many members', JSON.stringify(Object.fromEntries(Array.from({ length: 50 }, (_, index) => [`m${index}`, index])))],
  ])('%s', (_, json) => {
    expect(nestsDeeperThan(json, MAX_JSON_DEPTH)).toBe(false);
  });
});
