import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalGateway } from '../../local/local-gateway';
import type { LocalGateway } from '../../local/local-gateway';
import { loadSeed } from '../../simulator/seed';

/**
 * Local mode configures its gateway by passing settings and clients, not through the process environment, so a
 * second local mode in the same process leaves the first pointed at its own services. (A file of its own: local mode
 * must start before any other AWS SDK call in its process, see local/lambda-runtime.ts.)
 */
describe('two local modes side by side in one process', () => {
  let strict: LocalGateway;
  let lenient: LocalGateway;

  beforeAll(async () => {
    // Started one after the other, as a second `startLocalGateway` in a process would be: the second must not
    // re-point the first.
    strict = await startLocalGateway({ port: 0, seed: loadSeed(), env: { ALLOWED_CHANNELS: 'TASK' } });
    lenient = await startLocalGateway({ port: 0, seed: loadSeed(), env: { ALLOWED_CHANNELS: 'TASK,EMAIL' } });
  });
  afterAll(async () => {
    await strict?.close();
    await lenient?.close();
  });

  it('each serves its own simulator with its own settings', async () => {
    const transfer = async (local: LocalGateway, contactId: string) => {
      const response = await fetch(`${local.url}/contact/transfer`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ ContactId: contactId, ContactFlowId: 'f1000000-0000-4000-8000-000000000003', QueueId: 'q1000000-0000-4000-8000-000000000001' }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    // Both run the demo seed: the same ids in two simulators, so only the call counts tell where a call went.
    const email = 'e1000000-0000-4000-8000-000000000001';
    const [strictAnswer, lenientAnswer] = await Promise.all([transfer(strict, email), transfer(lenient, email)]);

    expect(strictAnswer).toMatchObject({ status: 400, body: { ReasonCode: 'CHANNEL_NOT_SUPPORTED' } });
    expect(lenientAnswer.status).toBe(200);
    expect(strict.connect?.callCount('TransferContact')).toBe(0);
    expect(lenient.connect?.callCount('TransferContact')).toBe(1);
    expect(strict.connect?.contact(email)?.DisconnectTimestamp).toBeUndefined();
  });
});
