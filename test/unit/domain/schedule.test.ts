import { describe, expect, it } from 'vitest';
import { TransferError } from '../../../lambda/domain/errors';
import { parseScheduleId, parseScheduleRequest, SCHEDULE_ID } from '../../../lambda/domain/schedule';
import { parseInstanceArn } from '../../../lambda/domain/arn';
import type { ConnectInstance } from '../../../lambda/domain/arn';

const instance = parseInstanceArn('arn:aws:connect:us-east-1:111122223333:instance/8f3c2a10-5b7e-4d21-9c64-0a1b2c3d4e5f') as ConnectInstance;
const now = new Date('2030-01-01T10:00:00.250Z');
const request = { ContactId: 'c-1', ContactFlowId: 'f-1', QueueId: 'q-1' };
const parse = (timing: Record<string, unknown>, extra: Record<string, unknown> = {}) => parseScheduleRequest({ ...request, ...extra, ...timing }, instance, now);
const fieldsOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return error instanceof TransferError ? { reason: error.reason, fields: error.fields?.map((field) => field.Field) } : error;
  }
  return 'accepted';
};

describe('a schedule\'s time (contract section 12)', () => {
  it('takes AfterSeconds from 60 to 30 days, rounded up to the whole second Scheduler fires at', () => {
    expect(parse({ AfterSeconds: 60 }).at.toISOString()).toBe('2030-01-01T10:01:01.000Z');
    expect(parse({ AfterSeconds: 2_592_000 }).at.toISOString()).toBe('2030-01-31T10:00:01.000Z');
  });

  it('takes At from 60 s to 30 days ahead, in UTC', () => {
    expect(parse({ At: '2030-01-01T10:01:00.250Z' }).at.toISOString()).toBe('2030-01-01T10:01:01.000Z');
    expect(parse({ At: '2030-01-31T10:00:00Z' }).at.toISOString()).toBe('2030-01-31T10:00:00.000Z');
  });

  it.each([
    ['just under a minute ahead', { At: '2030-01-01T10:01:00.249Z' }, 'At'],
    ['just over 30 days ahead', { At: '2030-01-31T10:00:00.251Z' }, 'At'],
    ['now', { At: '2030-01-01T10:00:00.250Z' }, 'At'],
    ['with an offset instead of Z', { At: '2030-01-01T12:00:00+02:00' }, 'At'],
    ['AfterSeconds 59', { AfterSeconds: 59 }, 'AfterSeconds'],
    ['AfterSeconds 2592001', { AfterSeconds: 2_592_001 }, 'AfterSeconds'],
    ['AfterSeconds 90.5', { AfterSeconds: 90.5 }, 'AfterSeconds'],
    ['AfterSeconds as text', { AfterSeconds: '90' }, 'AfterSeconds'],
  ])('refuses a time %s as VALIDATION_FAILED naming it', (_case, timing, field) => {
    expect(fieldsOf(() => parse(timing))).toEqual({ reason: 'VALIDATION_FAILED', fields: [field] });
  });

  it('lists a bad time before the request\'s other shape problems, and still checks rule 2 and 3 after a good one', () => {
    expect(fieldsOf(() => parse({}, { ContactFlowId: undefined }))).toEqual({ reason: 'VALIDATION_FAILED', fields: ['At', 'ContactFlowId'] });
    expect(fieldsOf(() => parse({ AfterSeconds: 60 }, { UserId: 'u-1' }))).toMatchObject({ reason: 'QUEUE_AND_USER_BOTH_SET' });
    expect(fieldsOf(() => parse({ AfterSeconds: 10 }, { UserId: 'u-1' }))).toEqual({ reason: 'VALIDATION_FAILED', fields: ['AfterSeconds'] });
  });
});

describe('a ScheduleId', () => {
  it('follows from the idempotency key, so a retried create names the same schedule, and differs for another key', () => {
    const first = parse({ AfterSeconds: 60 }, { ClientToken: 'escalate-1' });
    expect(first.scheduleId).toMatch(SCHEDULE_ID);
    expect(parse({ AfterSeconds: 60 }, { ClientToken: 'escalate-1' }).scheduleId).toBe(first.scheduleId);
    expect(parse({ AfterSeconds: 60 }, { ClientToken: 'escalate-2' }).scheduleId).not.toBe(first.scheduleId);
  });

  it('binds the key to the request and its time as sent: another time is another payload', () => {
    const a = parse({ AfterSeconds: 60 }, { ClientToken: 't' });
    expect(parse({ AfterSeconds: 60 }, { ClientToken: 't' }).payloadHash).toBe(a.payloadHash);
    expect(parse({ AfterSeconds: 61 }, { ClientToken: 't' }).payloadHash).not.toBe(a.payloadHash);
  });

  it('is SCHEDULE_NOT_FOUND when it is not one the gateway could have issued', () => {
    expect(parseScheduleId('sch-0123456789abcdef0123456789abcdef')).toBe('sch-0123456789abcdef0123456789abcdef');
    for (const bad of [undefined, '', 'sch-0123', 'SCH-0123456789ABCDEF0123456789ABCDEF', 'sch-0123456789abcdef0123456789abcdef/x']) {
      expect(fieldsOf(() => parseScheduleId(bad))).toEqual({ reason: 'SCHEDULE_NOT_FOUND', fields: undefined });
    }
  });
});

describe('what a refused schedule tells the caller', () => {
  const refusal = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      if (error instanceof TransferError) return { reason: error.reason, message: error.message, fields: error.fields };
      return error;
    }
    return 'accepted';
  };
  const fieldOf = (timing: Record<string, unknown>) => (refusal(() => parse(timing)) as { fields?: { Field: string; Message: string }[] }).fields;

  it.each([
    ['null', null],
    ['a list', [{ ...request, AfterSeconds: 60 }]],
    ['text', 'transfer c-1 in a minute'],
  ])('refuses a body that is %s as VALIDATION_FAILED saying it must be a JSON object', (_case, body) => {
    expect(refusal(() => parseScheduleRequest(body, instance, now))).toEqual({ reason: 'VALIDATION_FAILED', message: expect.stringMatching(/JSON object/), fields: undefined });
  });

  it('names the request\'s own shape problem when the time is good', () => {
    expect(fieldsOf(() => parse({ AfterSeconds: 60 }, { ContactFlowId: undefined }))).toEqual({ reason: 'VALIDATION_FAILED', fields: ['ContactFlowId'] });
  });

  it('says which of At and AfterSeconds is wrong, and why', () => {
    expect(fieldOf({})).toEqual([{ Field: 'At', Message: expect.stringMatching(/exactly one of At or AfterSeconds/) }]);
    expect(fieldOf({ At: '2030-01-01T10:05:00Z', AfterSeconds: 300 })).toEqual([{ Field: 'AfterSeconds', Message: expect.stringMatching(/not both/) }]);
    expect(fieldOf({ AfterSeconds: 59 })).toEqual([{ Field: 'AfterSeconds', Message: expect.stringMatching(/whole number of seconds from 60 to 2592000/) }]);
    expect(fieldOf({ At: 'tomorrow' })).toEqual([{ Field: 'At', Message: expect.stringMatching(/ISO-8601 UTC/) }]);
    expect(fieldOf({ At: '2030-01-01T09:00:00Z' })).toEqual([{ Field: 'At', Message: expect.stringMatching(/in the past/) }]);
    expect(fieldOf({ At: '2030-01-01T10:00:00.250Z' })).toEqual([{ Field: 'At', Message: expect.stringMatching(/in the past/) }]);
    expect(fieldOf({ At: '2030-01-01T10:00:30Z' })).toEqual([{ Field: 'At', Message: expect.stringMatching(/at least 60 seconds ahead/) }]);
    expect(fieldOf({ At: '2030-02-15T10:00:00Z' })).toEqual([{ Field: 'At', Message: expect.stringMatching(/at most 30 days \(2592000 seconds\)/) }]);
  });

  it('takes At exactly 30 days ahead', () => {
    expect(parse({ At: '2030-01-31T10:00:00.250Z' }).at.toISOString()).toBe('2030-01-31T10:00:01.000Z');
  });

  it('refuses an At that is not text, even one that reads as a time', () => {
    expect(fieldsOf(() => parse({ At: ['2030-01-01T10:05:00Z'] }))).toEqual({ reason: 'VALIDATION_FAILED', fields: ['At'] });
  });

  it('binds the key to At as sent: another At with the same token is another payload', () => {
    const a = parse({ At: '2030-01-01T10:05:00Z' }, { ClientToken: 't' });
    expect(parse({ At: '2030-01-01T10:05:00Z' }, { ClientToken: 't' }).payloadHash).toBe(a.payloadHash);
    expect(parse({ At: '2030-01-01T10:06:00Z' }, { ClientToken: 't' }).payloadHash).not.toBe(a.payloadHash);
  });

  it('is SCHEDULE_NOT_FOUND for an id with text before it, or one that is not text', () => {
    for (const bad of ['x/sch-0123456789abcdef0123456789abcdef', ['sch-0123456789abcdef0123456789abcdef']]) {
      expect(fieldsOf(() => parseScheduleId(bad))).toEqual({ reason: 'SCHEDULE_NOT_FOUND', fields: undefined });
    }
  });
});
