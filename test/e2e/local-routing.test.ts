import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalGateway } from '../../local/local-gateway';
import type { LocalGateway } from '../../local/local-gateway';

/** Local mode's own answers around the doors: a health check, and refusals a client parses like the gateway's. */
let local: LocalGateway;
beforeAll(async () => {
  local = await startLocalGateway({ port: 0 });
});
afterAll(() => local?.close());

async function call(path: string, init: RequestInit = {}) {
  const response = await fetch(`${local.url}${path}`, init);
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
}

describe('local mode routing', () => {
  it('answers GET /health', async () => {
    expect(await call('/health')).toMatchObject({ status: 200, body: { Status: 'OK' } });
  });

  it('answers an unknown path with 404 in the contract error shape, naming what it serves', async () => {
    const answer = await call('/contact/transfers');
    expect(answer).toMatchObject({ status: 404, body: { Type: 'ResourceNotFoundException', ReasonCode: 'RESOURCE_NOT_FOUND' } });
    expect(answer.headers.get('x-amzn-ErrorType')).toBe('ResourceNotFoundException');
    expect(answer.body.Message).toContain('POST /contact/transfer');
  });

  it.each([
    ['/contact/transfer', 'GET', 'POST'],
    ['/events', 'PUT', 'POST'],
    ['/health', 'POST', 'GET'],
  ])('answers %s with %s as 405, with Allow: %s', async (path, method, allowed) => {
    const answer = await call(path, { method, ...(method !== 'GET' && { body: '{}' }) });
    expect(answer).toMatchObject({ status: 405, body: { Type: 'InvalidRequestException', ReasonCode: 'METHOD_NOT_ALLOWED' } });
    expect(answer.headers.get('Allow')).toBe(allowed);
    expect(answer.headers.get('x-amzn-ErrorType')).toBe('InvalidRequestException');
  });

  it('answers a body over what it reads with 413 in the contract error shape', async () => {
    const answer = await call('/contact/transfer', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: 'x'.repeat(1024 * 1024 + 1) });
    expect(answer).toMatchObject({ status: 413, body: { Type: 'InvalidRequestException', ReasonCode: 'VALIDATION_FAILED' } });
    expect(answer.headers.get('x-amzn-ErrorType')).toBe('InvalidRequestException');
  });
});
