import { afterEach, describe, expect, it, vi } from 'vitest';
import { TransferError } from '../../../lambda/domain/errors';
import { logger, METRIC, metrics, reportOutcome } from '../../../lambda/observability';
import type { Origin } from '../../../lambda/ports';

const origin: Origin = { door: 'https', caller: 'arn:aws:iam::111122223333:user/app', correlationId: 'req-1' };
const result = { ContactId: 'new-1', ContactArn: 'arn:aws:connect:us-east-1:111122223333:instance/i/contact/new-1' };

afterEach(() => vi.restoreAllMocks());

/** What an operator searches for: one line per request with ids, outcome and reason, and a metric per outcome. */
describe('reportOutcome', () => {
  it('logs one line for a transfer, with the new contact and the tree, and counts it', () => {
    const info = vi.spyOn(logger, 'info').mockImplementation(() => undefined);
    const added = vi.spyOn(metrics, 'addMetric');
    reportOutcome({ origin, contactId: 'old-1', startedAt: Date.now() - 5, outcome: { result, replayed: false, treeId: 'old-1' } });
    expect(info).toHaveBeenCalledTimes(1);
    expect(info.mock.calls[0]?.[1]).toMatchObject({ contactId: 'old-1', treeId: 'old-1', trigger: 'https', outcome: 'transferred', newContactId: 'new-1' });
    expect(added).toHaveBeenCalledWith(METRIC.succeeded, 'Count', 1);
  });

  it('counts a replay apart from a transfer', () => {
    vi.spyOn(logger, 'info').mockImplementation(() => undefined);
    const added = vi.spyOn(metrics, 'addMetric');
    reportOutcome({ origin, contactId: 'old-1', startedAt: Date.now(), outcome: { result, replayed: true } });
    expect(added).toHaveBeenCalledWith(METRIC.replayed, 'Count', 1);
  });

  it('logs a rejection at INFO with its reason, and a failure at ERROR with its cause', () => {
    const info = vi.spyOn(logger, 'info').mockImplementation(() => undefined);
    const error = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    reportOutcome({ origin, contactId: 'c', startedAt: Date.now(), error: TransferError.of('FLOW_NOT_ACTIVE') });
    expect(info.mock.calls[0]?.[1]).toMatchObject({ outcome: 'rejected', reason: 'FLOW_NOT_ACTIVE', status: 400 });

    const cause = new Error('socket hang up');
    reportOutcome({ origin, contactId: 'c', startedAt: Date.now(), error: TransferError.of('UPSTREAM_FAILURE', { cause }) });
    expect(error.mock.calls[0]?.[1]).toMatchObject({ outcome: 'failed', reason: 'UPSTREAM_FAILURE', error: cause });
  });

  it('never logs the request body or the client token', () => {
    const info = vi.spyOn(logger, 'info').mockImplementation(() => undefined);
    reportOutcome({ origin, contactId: 'c', startedAt: Date.now(), outcome: { result, replayed: false } });
    expect(Object.keys(info.mock.calls[0]?.[1] as object).sort()).toEqual(['contactId', 'durationMs', 'newContactId', 'outcome', 'treeId', 'trigger']);
  });
});
