import { describe, expect, it, vi } from 'vitest';
import { parseInstanceArn } from '../../../lambda/domain/arn';
import type { ConnectInstance } from '../../../lambda/domain/arn';
import { TransferError } from '../../../lambda/domain/errors';
import { idempotencyKeysOf } from '../../../lambda/domain/idempotency-keys';
import type { TransferRequest } from '../../../lambda/domain/request';
import type { ContactFacts, FlowFacts, QueueFacts, UserFacts } from '../../../lambda/domain/facts';
import { TransferNotSent } from '../../../lambda/ports';
import type { ConnectPort, IdempotencyPort, Intent, LedgerPort, LedgerView, Origin, PacingPort, Reservation, TransferResult } from '../../../lambda/ports';
import { CONNECT_CLIENT_TOKEN_VALIDITY_MS } from '../../../lambda/domain/idempotency-keys';
import { TransferContactUseCase } from '../../../lambda/usecase/transfer-contact';
import type { TransferDependencies } from '../../../lambda/usecase/transfer-context';
import { ranOnce } from '../../support/idempotency';
import { SharedPacing } from '../../../lambda/adapters/pacing';
import { InMemoryPacer } from '../../../lambda/adapters/transfer-pacer';

const INSTANCE_ARN = 'arn:aws:connect:eu-west-1:123456789012:instance/11111111-1111-4111-8111-111111111111';
const instance = parseInstanceArn(INSTANCE_ARN) as ConnectInstance;
const origin: Origin = { door: 'eventbridge', caller: 'internal.contact-transfer/evt-1', correlationId: 'evt-1' };
const toQueue: TransferRequest = { ContactId: 'c-1', ContactFlowId: 'f-1', QueueId: 'q-1' };
const transferred: TransferResult = { ContactId: 'c-new', ContactArn: `${INSTANCE_ARN}/contact/c-new` };
const NOW = new Date('2026-11-23T10:00:00Z');

interface World {
  contact?: ContactFacts;
  flow?: FlowFacts;
  queue?: QueueFacts;
  user?: UserFacts;
  view?: LedgerView;
  tally?: { counted: number; lastNumber: number };
  completeFails?: boolean;
}

function fakeConnect(world: World) {
  return {
    describeContact: vi.fn<ConnectPort['describeContact']>(async () => world.contact),
    describeFlow: vi.fn<ConnectPort['describeFlow']>(async () => world.flow ?? { found: true, published: true, type: 'CONTACT_FLOW', state: 'ACTIVE' }),
    describeQueue: vi.fn<ConnectPort['describeQueue']>(async () => world.queue ?? { found: true, enabled: true }),
    describeUser: vi.fn<ConnectPort['describeUser']>(async () => world.user ?? { found: true }),
    transferContact: vi.fn<ConnectPort['transferContact']>(async () => transferred),
  } satisfies ConnectPort;
}

function fakeLedger(world: World) {
  return {
    read: vi.fn<LedgerPort['read']>(async () => world.view ?? {}),
    tally: vi.fn<LedgerPort['tally']>(async () => world.tally ?? { counted: 0, lastNumber: 0 }),
    reserve: vi.fn<LedgerPort['reserve']>(async () => 'reserved'),
    complete: vi.fn<LedgerPort['complete']>(async () => {
      if (world.completeFails) throw new Error('ledger table unreachable');
    }),
    release: vi.fn<LedgerPort['release']>(async () => undefined),
    attempting: vi.fn<LedgerPort['attempting']>(async () => true),
    setAside: vi.fn<LedgerPort['setAside']>(async () => undefined),
    skip: vi.fn<LedgerPort['skip']>(async () => undefined),
  } satisfies LedgerPort;
}

/** Runs the work every time, as a store that has never seen the key would. */
const runsWork: IdempotencyPort = { once: (_key, work) => ranOnce(work) };

function setUp(world: World, overrides: Partial<TransferDependencies> = {}) {
  const connect = fakeConnect(world);
  const ledger = fakeLedger(world);
  const alert = vi.fn<TransferDependencies['alert']>();
  const useCase = new TransferContactUseCase({
    instance,
    policy: { allowedChannels: ['TASK', 'EMAIL'], maxTransfers: 11 },
    connect,
    ledger,
    idempotency: runsWork,
    alert,
    now: () => NOW,
    ...overrides,
  });
  return { useCase, connect, ledger, alert };
}

/** A pacer whose every slot is free at once, counting what it is asked. */
function countingPacing() {
  return {
    slot: vi.fn<PacingPort['slot']>(async () => Date.now()),
    giveBack: vi.fn<PacingPort['giveBack']>(async () => undefined),
    throttled: vi.fn<PacingPort['throttled']>(async () => undefined),
  } satisfies PacingPort;
}

/** A pacer whose next slot lies past every deadline. */
const pacedOut = (): PacingPort => ({ ...countingPacing(), slot: async () => undefined });

const rootTask: ContactFacts = { id: 'c-1', channel: 'TASK', disconnected: false };
const transferredTask: ContactFacts = { id: 'c-1', channel: 'TASK', initialContactId: 'c-0', disconnected: false };

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(TransferError);
  return (error as TransferError).reason;
}

function reserved(ledger: ReturnType<typeof fakeLedger>): Reservation {
  expect(ledger.reserve).toHaveBeenCalledTimes(1);
  return ledger.reserve.mock.calls[0]![0];
}

describe('TransferContactUseCase: a transfer', () => {
  it('transfers with the derived ClientToken and answers with what Connect returned', async () => {
    const { useCase, connect } = setUp({ contact: rootTask });
    await expect(useCase.execute(toQueue, origin)).resolves.toEqual({ result: transferred, replayed: false, treeId: 'c-1' });
    expect(connect.transferContact).toHaveBeenCalledExactlyOnceWith(toQueue, idempotencyKeysOf(toQueue, instance.id).connectClientToken);
  });

  it('describes only what the request names', async () => {
    const { useCase, connect } = setUp({ contact: rootTask });
    await useCase.execute({ ContactId: 'c-1', ContactFlowId: 'f-1', UserId: 'u-1' }, origin);
    expect(connect.describeContact).toHaveBeenCalledWith('c-1');
    expect(connect.describeFlow).toHaveBeenCalledWith('f-1');
    expect(connect.describeUser).toHaveBeenCalledWith('u-1');
    expect(connect.describeQueue).not.toHaveBeenCalled();
  });

  it.each<[string, World, string]>([
    ['a missing contact', {}, 'CONTACT_NOT_FOUND'],
    ['an ended contact', { contact: { ...rootTask, disconnected: true } }, 'CONTACT_NOT_ACTIVE'],
    ['a disabled queue', { contact: rootTask, queue: { found: true, enabled: false } }, 'QUEUE_DISABLED'],
  ])('%s is rejected with %s before anything is reserved or sent', async (_case, world, reason) => {
    const { useCase, connect, ledger } = setUp(world);
    expect(await reasonOf(useCase.execute(toQueue, origin))).toBe(reason);
    expect(ledger.reserve).not.toHaveBeenCalled();
    expect(connect.transferContact).not.toHaveBeenCalled();
  });

  it('reserves the transfer (intent and tree slot) before asking Connect, and records it after', async () => {
    const { useCase, connect, ledger } = setUp({ contact: rootTask });
    const order: string[] = [];
    ledger.reserve.mockImplementationOnce(async () => (order.push('reserve'), 'reserved'));
    connect.transferContact.mockImplementationOnce(async () => (order.push('transfer'), transferred));
    ledger.complete.mockImplementationOnce(async () => void order.push('complete'));
    await useCase.execute(toQueue, origin);
    expect(order).toEqual(['reserve', 'transfer', 'complete']);
    const keys = idempotencyKeysOf(toQueue, instance.id);
    expect(reserved(ledger)).toEqual({
      treeId: 'c-1',
      transferNumber: 1,
      transfersInTree: 1,
      fromContactId: 'c-1',
      request: toQueue,
      origin,
      idempotencyKey: keys.idempotencyKey,
      payloadHash: keys.payloadHash,
      at: NOW,
    });
    expect(ledger.complete).toHaveBeenCalledExactlyOnceWith(reserved(ledger), transferred, NOW);
  });

  it('Connect refusing releases the reservation (it stays on record) and passes the refusal on', async () => {
    const { useCase, connect, ledger } = setUp({ contact: rootTask });
    connect.transferContact.mockRejectedValueOnce(TransferError.connectRejected(404, 'ResourceNotFoundException', 'The contact has ended'));
    expect(await reasonOf(useCase.execute(toQueue, origin))).toBe('CONNECT_REJECTED');
    expect(ledger.release).toHaveBeenCalledExactlyOnceWith(reserved(ledger), 'ResourceNotFoundException', NOW);
    expect(ledger.complete).not.toHaveBeenCalled();
  });

  it.each(['THROTTLED', 'UPSTREAM_FAILURE'] as const)(
    'Connect failing with %s keeps the intent: an earlier SDK attempt may have been accepted with its answer lost',
    async (reason) => {
      const { useCase, connect, ledger } = setUp({ contact: rootTask });
      connect.transferContact.mockRejectedValue(TransferError.of(reason));
      expect(await reasonOf(useCase.execute(toQueue, origin))).toBe(reason);
      expect(ledger.release).not.toHaveBeenCalled();
      expect(ledger.complete).not.toHaveBeenCalled();
    },
  );

  it('paced out before anything was sent: the reservation is released at once (it stops counting) and THROTTLED passed on, typed as paced out', async () => {
    const { useCase, connect, ledger } = setUp({ contact: rootTask }, { pacing: pacedOut() });
    const error = await useCase.execute(toQueue, origin).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TransferError);
    expect(error).toMatchObject({ reason: 'THROTTLED', pacedOut: true, retryable: true });
    expect(connect.transferContact).not.toHaveBeenCalled();
    expect(ledger.release).toHaveBeenCalledExactlyOnceWith(reserved(ledger), 'THROTTLED', NOW);
    expect(ledger.complete).not.toHaveBeenCalled();
  });

  it('a request that never calls TransferContact takes no pacing slot: a rejection, a replay from the ledger, a duplicate in progress', async () => {
    const pacing = countingPacing();
    const rejected = setUp({ contact: { ...rootTask, disconnected: true } }, { pacing });
    expect(await reasonOf(rejected.useCase.execute(toQueue, origin))).toBe('CONTACT_NOT_ACTIVE');
    const replayed = setUp({ contact: rootTask }, { pacing, idempotency: { once: async () => ({ result: transferred, replayed: true }) } });
    await replayed.useCase.execute(toQueue, origin);
    const inProgress = setUp({ contact: rootTask }, { pacing });
    inProgress.ledger.reserve.mockResolvedValueOnce('key-taken');
    expect(await reasonOf(inProgress.useCase.execute(toQueue, origin))).toBe('REQUEST_IN_PROGRESS');
    // The duplicate's slot was taken beside its reservation, and given back before it answered.
    expect(pacing.slot).toHaveBeenCalledOnce();
    expect(pacing.giveBack).toHaveBeenCalledOnce();
  });

  it('the slot is taken beside the reservation, not after it: no sequential stage of its own', async () => {
    const pacing = countingPacing();
    const { useCase, ledger } = setUp({ contact: rootTask }, { pacing });
    let slotTakenWhileReserving = false;
    ledger.reserve.mockImplementationOnce(async () => {
      await Promise.resolve();
      slotTakenWhileReserving = pacing.slot.mock.calls.length === 1;
      return 'reserved';
    });
    await useCase.execute(toQueue, origin, { slotDeadline: 12_345 });
    expect(slotTakenWhileReserving).toBe(true);
    expect(pacing.slot).toHaveBeenCalledExactlyOnceWith(12_345);
  });

  it('a TransferContact Connect throttles is sent again, with the same ClientToken, in a slot taken after the shared pacer slowed down', async () => {
    const pacing = countingPacing();
    const { useCase, connect } = setUp({ contact: rootTask }, { pacing });
    connect.transferContact.mockRejectedValueOnce(TransferError.of('THROTTLED'));
    await expect(useCase.execute(toQueue, origin, { slotDeadline: 12_345 })).resolves.toMatchObject({ result: transferred, replayed: false });
    const [first, second] = connect.transferContact.mock.calls;
    expect(second?.[1]).toBe(first?.[1]);
    expect(pacing.throttled).toHaveBeenCalledOnce();
    expect(pacing.slot).toHaveBeenCalledTimes(2);
    expect(pacing.slot).toHaveBeenLastCalledWith(12_345);
    expect(pacing.throttled.mock.invocationCallOrder[0]).toBeLessThan(pacing.slot.mock.invocationCallOrder[1] ?? 0);
  });

  it('a TransferContact throttled on all three sends answers THROTTLED and keeps the intent for a retry', async () => {
    const pacing = countingPacing();
    const { useCase, connect, ledger } = setUp({ contact: rootTask }, { pacing });
    connect.transferContact.mockRejectedValue(TransferError.of('THROTTLED'));
    expect(await reasonOf(useCase.execute(toQueue, origin))).toBe('THROTTLED');
    expect(connect.transferContact).toHaveBeenCalledTimes(3);
    expect(pacing.throttled).toHaveBeenCalledTimes(3);
    expect(ledger.release).not.toHaveBeenCalled();
  });

  it('a throttled TransferContact whose next slot comes too late is not sent again: THROTTLED', async () => {
    const pacing = countingPacing();
    pacing.slot.mockResolvedValueOnce(Date.now()).mockResolvedValueOnce(undefined);
    const { useCase, connect } = setUp({ contact: rootTask }, { pacing });
    connect.transferContact.mockRejectedValue(TransferError.of('THROTTLED'));
    expect(await reasonOf(useCase.execute(toQueue, origin))).toBe('THROTTLED');
    expect(connect.transferContact).toHaveBeenCalledOnce();
  });

  it('fails closed when the reservation cannot be written: INTERNAL_ERROR and no transfer', async () => {
    const { useCase, connect, ledger } = setUp({ contact: rootTask });
    ledger.reserve.mockRejectedValueOnce(new Error('ledger unreachable'));
    expect(await reasonOf(useCase.execute(toQueue, origin))).toBe('INTERNAL_ERROR');
    expect(connect.transferContact).not.toHaveBeenCalled();
  });
});

describe('TransferContactUseCase: rule 14 reserves a numbered slot', () => {
  it.each<[number, boolean]>([
    [9, true],
    [10, true],
    [11, false],
    [12, false],
  ])('the named contact was made by transfer %i, maxTransfers 11: transferred=%s', async (count, allowed) => {
    const { useCase, connect, ledger } = setUp({ contact: transferredTask, view: { transfersInTree: { treeId: 'c-0', count, lastNumber: count } } });
    if (allowed) {
      await useCase.execute(toQueue, origin);
      expect(reserved(ledger).transferNumber).toBe(count + 1);
    } else {
      expect(await reasonOf(useCase.execute(toQueue, origin))).toBe('TRANSFER_LIMIT_REACHED');
      expect(connect.transferContact).not.toHaveBeenCalled();
    }
    expect(ledger.tally).not.toHaveBeenCalled();
  });

  it.each<[number, number, boolean]>([
    [10, 14, true],
    [11, 11, false],
  ])('released attempts do not count: %i transfers in slots up to %i, maxTransfers 11: transferred=%s', async (count, lastNumber, allowed) => {
    const { useCase, ledger } = setUp({ contact: transferredTask, view: { transfersInTree: { treeId: 'c-0', count, lastNumber } } });
    if (allowed) {
      await useCase.execute(toQueue, origin);
      // A new slot after the highest ever taken (numbers stay unique); the count the new contact records is one more.
      expect(reserved(ledger)).toMatchObject({ transferNumber: lastNumber + 1, transfersInTree: count + 1 });
    } else {
      expect(await reasonOf(useCase.execute(toQueue, origin))).toBe('TRANSFER_LIMIT_REACHED');
    }
  });

  it.each<[string, ContactFacts]>([
    ['without InitialContactId', rootTask],
    ['whose InitialContactId is itself', { ...rootTask, initialContactId: 'c-1' }],
  ])('a contact %s with no ledger entry is a tree root: slot 1, no tally', async (_case, contact) => {
    const { useCase, ledger } = setUp({ contact });
    await useCase.execute(toQueue, origin);
    expect(ledger.tally).not.toHaveBeenCalled();
    expect(reserved(ledger)).toMatchObject({ treeId: 'c-1', transferNumber: 1 });
  });

  it('a contact of a longer tree that the gateway did not make is tallied by its tree id; pending slots count', async () => {
    const { useCase, ledger } = setUp({ contact: transferredTask, tally: { counted: 4, lastNumber: 5 } });
    await useCase.execute(toQueue, origin);
    expect(ledger.tally).toHaveBeenCalledExactlyOnceWith('c-0');
    expect(reserved(ledger)).toMatchObject({ treeId: 'c-0', transferNumber: 6, transfersInTree: 5 });
  });

  it('that tally also enforces the limit', async () => {
    const { useCase, connect } = setUp({ contact: transferredTask, tally: { counted: 11, lastNumber: 11 } });
    expect(await reasonOf(useCase.execute(toQueue, origin))).toBe('TRANSFER_LIMIT_REACHED');
    expect(connect.transferContact).not.toHaveBeenCalled();
  });

  it('a slot taken since the count was read: the tree is tallied and the next slot reserved', async () => {
    const { useCase, ledger } = setUp({ contact: transferredTask, view: { transfersInTree: { treeId: 'c-0', count: 2, lastNumber: 2 } }, tally: { counted: 3, lastNumber: 3 } });
    ledger.reserve.mockResolvedValueOnce('slot-taken');
    await useCase.execute(toQueue, origin);
    expect(ledger.reserve.mock.calls.map(([{ transferNumber, transfersInTree }]) => [transferNumber, transfersInTree])).toEqual([
      [3, 3],
      [4, 4],
    ]);
  });

  it('a slot taken and the tally at the limit: TRANSFER_LIMIT_REACHED, nothing sent', async () => {
    const { useCase, connect, ledger } = setUp({ contact: transferredTask, view: { transfersInTree: { treeId: 'c-0', count: 10, lastNumber: 10 } }, tally: { counted: 11, lastNumber: 11 } });
    ledger.reserve.mockResolvedValueOnce('slot-taken');
    expect(await reasonOf(useCase.execute(toQueue, origin))).toBe('TRANSFER_LIMIT_REACHED');
    expect(connect.transferContact).not.toHaveBeenCalled();
  });

  it.each<[string, 'slot-taken' | 'key-taken', 'slot-taken' | 'key-taken' | 'reserved']>([
    ['the slot is taken twice', 'slot-taken', 'slot-taken'],
    ['the key is taken by a concurrent run', 'key-taken', 'reserved'],
  ])('%s: a retryable REQUEST_IN_PROGRESS, nothing sent', async (_case, first, second) => {
    const { useCase, connect, ledger } = setUp({ contact: rootTask, tally: { counted: 1, lastNumber: 1 } });
    ledger.reserve.mockResolvedValueOnce(first).mockResolvedValueOnce(second);
    const error = await useCase.execute(toQueue, origin).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ reason: 'REQUEST_IN_PROGRESS', retryable: true });
    expect(connect.transferContact).not.toHaveBeenCalled();
  });

  it("another key's transfer of the contact reserved and not yet settled: a retryable TRANSFER_IN_PROGRESS (409 ResourceConflictException), nothing sent", async () => {
    const { useCase, connect, ledger } = setUp({ contact: rootTask });
    ledger.reserve.mockResolvedValueOnce('contact-busy');
    const error = await useCase.execute(toQueue, origin).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ reason: 'TRANSFER_IN_PROGRESS', status: 409, type: 'ResourceConflictException', retryable: true });
    expect(ledger.reserve).toHaveBeenCalledTimes(1);
    expect(connect.transferContact).not.toHaveBeenCalled();
  });

  it('fails closed when the tree cannot be tallied', async () => {
    const { useCase, connect, ledger } = setUp({ contact: transferredTask });
    ledger.tally.mockRejectedValueOnce(new Error('ledger unreachable'));
    const error = await useCase.execute(toQueue, origin).catch((caught: unknown) => caught);
    expect(error).not.toBeUndefined();
    expect(connect.transferContact).not.toHaveBeenCalled();
  });
});

describe('TransferContactUseCase: an intent already in the ledger', () => {
  const withToken: TransferRequest = { ...toQueue, ClientToken: 'token-1' };
  const keys = idempotencyKeysOf(withToken, instance.id);
  const intent = (overrides: Partial<Intent> = {}): Intent => ({
    idempotencyKey: keys.idempotencyKey,
    treeId: 'c-1',
    transferNumber: 1,
    transfersInTree: 1,
    fromContactId: 'c-1',
    status: 'PENDING',
    payloadHash: keys.payloadHash,
    intendedAt: new Date(NOW.getTime() - 60_000),
    ...overrides,
  });
  const ended: ContactFacts = { ...rootTask, disconnected: true };

  it('transferred, same payload: the recorded result is a replay, nothing sent or written', async () => {
    // The contact has since been transferred, so the rules alone would now reject it.
    const { useCase, connect, ledger } = setUp({ contact: ended, view: { intent: intent({ status: 'TRANSFERRED', result: transferred }) } });
    await expect(useCase.execute(withToken, origin)).resolves.toMatchObject({ result: transferred, replayed: true });
    expect(ledger.read).toHaveBeenCalledWith('c-1', keys.idempotencyKey);
    expect(connect.transferContact).not.toHaveBeenCalled();
    expect(ledger.reserve).not.toHaveBeenCalled();
    expect(ledger.complete).not.toHaveBeenCalled();
  });

  it.each(['PENDING', 'TRANSFERRED'] as const)('%s under the same token with another payload is CLIENT_TOKEN_REUSED', async (status) => {
    const { useCase, connect } = setUp({ contact: rootTask, view: { intent: intent({ status, payloadHash: 'another-payload', result: transferred }) } });
    expect(await reasonOf(useCase.execute(withToken, origin))).toBe('CLIENT_TOKEN_REUSED');
    expect(connect.transferContact).not.toHaveBeenCalled();
  });

  it('released: the key runs again as a new transfer', async () => {
    const { useCase, ledger } = setUp({ contact: rootTask, view: { intent: intent({ status: 'RELEASED', payloadHash: 'another-payload' }) } });
    await expect(useCase.execute(withToken, origin)).resolves.toMatchObject({ result: transferred, replayed: false });
    expect(ledger.reserve).toHaveBeenCalledTimes(1);
  });

  it("pending with the contact ended: re-sends the same ClientToken without rule 7, answers Connect's original as a replay, records it", async () => {
    const { useCase, connect, ledger } = setUp({ contact: ended, view: { intent: intent() } });
    await expect(useCase.execute(withToken, origin)).resolves.toMatchObject({ result: transferred, replayed: true });
    expect(connect.transferContact).toHaveBeenCalledExactlyOnceWith(withToken, keys.connectClientToken);
    expect(ledger.reserve).not.toHaveBeenCalled();
    expect(ledger.complete).toHaveBeenCalledExactlyOnceWith(intent(), transferred, NOW);
  });

  it('pending with the contact ended and Connect refusing the re-send: released, and Connect\'s answer passed on', async () => {
    const { useCase, connect, ledger } = setUp({ contact: ended, view: { intent: intent() } });
    connect.transferContact.mockRejectedValueOnce(TransferError.connectRejected(404, 'ResourceNotFoundException', 'The contact has ended'));
    const error = await useCase.execute(withToken, origin).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ reason: 'CONNECT_REJECTED', status: 404 });
    expect(ledger.release).toHaveBeenCalledExactlyOnceWith(intent(), 'ResourceNotFoundException', NOW);
  });

  it('pending with the contact still active: the transfer never happened; rules run again (not 14) and it is sent in its slot', async () => {
    const { useCase, connect, ledger } = setUp({ contact: rootTask, view: { intent: intent({ transferNumber: 11 }), transfersInTree: { treeId: 'c-1', count: 11, lastNumber: 11 } } });
    await expect(useCase.execute(withToken, origin)).resolves.toMatchObject({ result: transferred, replayed: false });
    expect(connect.transferContact).toHaveBeenCalledTimes(1);
    expect(ledger.reserve).not.toHaveBeenCalled();
    expect(ledger.complete).toHaveBeenCalledExactlyOnceWith(intent({ transferNumber: 11 }), transferred, NOW);
  });

  it('pending, resumed: the slot is stamped with this attempt before Connect is asked, so the sweeper counts from it', async () => {
    for (const contact of [rootTask, ended]) {
      const { useCase, connect, ledger } = setUp({ contact, view: { intent: intent() } });
      const order: string[] = [];
      ledger.attempting.mockImplementationOnce(async () => (order.push('stamp'), true));
      connect.transferContact.mockImplementationOnce(async () => (order.push('send'), transferred));
      await useCase.execute(withToken, origin);
      expect(ledger.attempting).toHaveBeenCalledExactlyOnceWith(intent(), NOW);
      expect(order).toEqual(['stamp', 'send']);
    }
  });

  it('pending, resumed, but settled meanwhile or the stamp failing: nothing is sent, and the answer is retryable', async () => {
    const { useCase, connect, ledger } = setUp({ contact: rootTask, view: { intent: intent() } });
    ledger.attempting.mockResolvedValueOnce(false);
    expect(await reasonOf(useCase.execute(withToken, origin))).toBe('REQUEST_IN_PROGRESS');
    ledger.attempting.mockRejectedValueOnce(new Error('ledger unreachable'));
    expect(await reasonOf(useCase.execute(withToken, origin))).toBe('INTERNAL_ERROR');
    expect(connect.transferContact).not.toHaveBeenCalled();
    expect(ledger.release).not.toHaveBeenCalled();
  });

  it('a new transfer is not stamped again: its reservation is its attempt', async () => {
    const { useCase, ledger } = setUp({ contact: rootTask });
    await useCase.execute(withToken, origin);
    expect(ledger.attempting).not.toHaveBeenCalled();
  });

  it("the sweeper, on an intent beyond Connect's token window whose contact ended: alerts once and sets it aside, sends nothing", async () => {
    const old = intent({ intendedAt: new Date(NOW.getTime() - CONNECT_CLIENT_TOKEN_VALIDITY_MS - 1000) });
    const { useCase, connect, ledger, alert } = setUp({ contact: ended, view: { intent: old } });
    await expect(useCase.settle(withToken, origin)).resolves.toBe('set-aside');
    expect(ledger.setAside).toHaveBeenCalledExactlyOnceWith(old);
    expect(alert).toHaveBeenCalledTimes(1);
    expect(connect.transferContact).not.toHaveBeenCalled();
    expect(ledger.release).not.toHaveBeenCalled();
  });

  it('pending with the contact active and the re-send paced out: kept, as the earlier attempt may have reached Connect before the contact shows it', async () => {
    const { useCase, ledger } = setUp({ contact: rootTask, view: { intent: intent() } }, { pacing: pacedOut() });
    expect(await reasonOf(useCase.execute(withToken, origin))).toBe('THROTTLED');
    expect(ledger.release).not.toHaveBeenCalled();
    expect(ledger.complete).not.toHaveBeenCalled();
  });

  it('pending with the contact ended and the re-send paced out: kept, as the earlier attempt may have transferred it', async () => {
    const { useCase, ledger } = setUp({ contact: ended, view: { intent: intent() } }, { pacing: pacedOut() });
    expect(await reasonOf(useCase.execute(withToken, origin))).toBe('THROTTLED');
    expect(ledger.release).not.toHaveBeenCalled();
    expect(ledger.complete).not.toHaveBeenCalled();
  });

  it.each<[string, World, Partial<TransferDependencies>, string]>([
    ['the queue disabled', { queue: { found: true, enabled: false } }, {}, 'QUEUE_DISABLED'],
    ['the flow unpublished', { flow: { found: true, published: false } }, {}, 'FLOW_NOT_ACTIVE'],
    ['the channel no longer allowed', {}, { policy: { allowedChannels: ['EMAIL'], maxTransfers: 11 } }, 'CHANNEL_NOT_SUPPORTED'],
  ])('pending with the contact active and %s now: kept PENDING (the earlier attempt may still reach Connect), answered retryably, nothing sent', async (_, change, dependencies, rule) => {
    const { useCase, connect, ledger } = setUp({ contact: rootTask, view: { intent: intent() }, ...change }, dependencies);
    const error = await useCase.execute(withToken, origin).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ reason: 'REQUEST_IN_PROGRESS', retryable: true, message: expect.stringContaining(rule) });
    expect(ledger.release).not.toHaveBeenCalled();
    expect(ledger.complete).not.toHaveBeenCalled();
    expect(connect.transferContact).not.toHaveBeenCalled();
  });

  it("pending, contact ended, older than Connect's documented token window: not re-sent; an operator is told", async () => {
    const old = intent({ intendedAt: new Date(NOW.getTime() - CONNECT_CLIENT_TOKEN_VALIDITY_MS - 1000) });
    const { useCase, connect, ledger, alert } = setUp({ contact: ended, view: { intent: old } });
    const error = await useCase.execute(withToken, origin).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ reason: 'INTERNAL_ERROR', retryable: true });
    expect(connect.transferContact).not.toHaveBeenCalled();
    expect(ledger.release).not.toHaveBeenCalled();
    expect(alert).toHaveBeenCalledWith(expect.stringContaining('unknown'), expect.objectContaining({ treeId: 'c-1', transferNumber: 1 }));
  });
});

describe('TransferContactUseCase: recording and what the log says', () => {
  const everything = {
    treeId: 'c-0',
    transferNumber: 3,
    fromContactId: 'c-1',
    toContactId: transferred.ContactId,
    toContactArn: transferred.ContactArn,
    contactFlowId: 'f-1',
    queueId: 'q-1',
    door: 'eventbridge',
    requestedBy: origin.caller,
    correlationId: origin.correlationId,
    idempotencyKey: idempotencyKeysOf(toQueue, instance.id).idempotencyKey,
  };
  const storeFails = (): IdempotencyPort => ({ once: (_key, work) => ranOnce(work, { storeFailure: new Error('store down') }) });

  it('a failing ledger record still answers success, and the line carries everything to record it by hand', async () => {
    const { useCase, alert } = setUp({ contact: transferredTask, view: { transfersInTree: { treeId: 'c-0', count: 2, lastNumber: 2 } }, completeFails: true });
    await expect(useCase.execute(toQueue, origin)).resolves.toMatchObject({ result: transferred, replayed: false });
    expect(alert).toHaveBeenCalledOnce();
    const [message, details] = alert.mock.calls[0]!;
    expect(details).toMatchObject({ ...everything, error: expect.objectContaining({ message: 'ledger table unreachable' }) });
    expect(message).toMatch(/record it by hand/);
    expect(message).not.toMatch(/ledger answers/);
  });

  it('only the idempotency record failing: the line says the ledger answers a retry', async () => {
    const { useCase, alert } = setUp({ contact: transferredTask, view: { transfersInTree: { treeId: 'c-0', count: 2, lastNumber: 2 } } }, { idempotency: storeFails() });
    await expect(useCase.execute(toQueue, origin)).resolves.toMatchObject({ result: transferred });
    expect(alert).toHaveBeenCalledExactlyOnceWith(expect.stringMatching(/ledger recorded it.*the ledger answers a retry/), expect.objectContaining(everything));
  });

  it('both failing: the line claims nothing of the ledger but the pending intent a retry re-sends', async () => {
    const { useCase, alert } = setUp(
      { contact: transferredTask, view: { transfersInTree: { treeId: 'c-0', count: 2, lastNumber: 2 } }, completeFails: true },
      { idempotency: storeFails() },
    );
    await expect(useCase.execute(toQueue, origin)).resolves.toMatchObject({ result: transferred });
    const [message, details] = alert.mock.calls[0]!;
    expect(message).toMatch(/neither the ledger nor the idempotency record holds it/);
    expect(message).not.toMatch(/ledger answers/);
    expect(details).toMatchObject(everything);
  });

  it('the ledger record is done before execute answers', async () => {
    let finishWrite: () => void = () => undefined;
    const { useCase, ledger } = setUp({ contact: rootTask });
    ledger.complete.mockImplementationOnce(() => new Promise<void>((resolve) => (finishWrite = resolve)));
    let answered = false;
    const execution = useCase.execute(toQueue, origin).then(() => (answered = true));
    await vi.waitFor(() => expect(ledger.complete).toHaveBeenCalled());
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(answered).toBe(false);
    finishWrite();
    await execution;
    expect(answered).toBe(true);
  });

  it('a replay from the idempotency store whose predecessor left the ledger pending records it now', async () => {
    const keys = idempotencyKeysOf(toQueue, instance.id);
    const pending: Intent = { idempotencyKey: keys.idempotencyKey, treeId: 'c-1', transferNumber: 1, transfersInTree: 1, fromContactId: 'c-1', status: 'PENDING', payloadHash: keys.payloadHash, intendedAt: NOW };
    const stored: IdempotencyPort = { once: async () => ({ result: transferred, replayed: true }) };
    const { useCase, connect, ledger } = setUp({ contact: rootTask, view: { intent: pending } }, { idempotency: stored });
    await expect(useCase.execute(toQueue, origin)).resolves.toMatchObject({ result: transferred, replayed: true });
    expect(ledger.complete).toHaveBeenCalledExactlyOnceWith(pending, transferred, NOW);
    expect(connect.transferContact).not.toHaveBeenCalled();
  });
});

describe('TransferContactUseCase: a replay finishing its predecessor', () => {
  const keys = idempotencyKeysOf(toQueue, instance.id);
  const pending: Intent = { idempotencyKey: keys.idempotencyKey, treeId: 'c-1', transferNumber: 1, transfersInTree: 1, fromContactId: 'c-1', status: 'PENDING', payloadHash: keys.payloadHash, intendedAt: NOW };
  const stored: IdempotencyPort = { once: async () => ({ result: transferred, replayed: true }) };

  it('a ledger read that fails claims nothing and records nothing; the replay is still answered', async () => {
    const { useCase, ledger, alert } = setUp({ contact: rootTask }, { idempotency: stored });
    ledger.read.mockRejectedValueOnce(new Error('ledger unreachable'));
    await expect(useCase.execute(toQueue, origin)).resolves.toMatchObject({ result: transferred, replayed: true });
    expect(ledger.complete).not.toHaveBeenCalled();
    expect(alert).not.toHaveBeenCalled();
  });

  it('a record that still fails is reported with everything to record it by hand', async () => {
    const { useCase, alert } = setUp({ contact: rootTask, view: { intent: pending }, completeFails: true }, { idempotency: stored });
    await expect(useCase.execute(toQueue, origin)).resolves.toMatchObject({ result: transferred, replayed: true });
    expect(alert).toHaveBeenCalledExactlyOnceWith(
      expect.stringMatching(/PENDING/),
      expect.objectContaining({ treeId: 'c-1', transferNumber: 1, toContactId: transferred.ContactId, idempotencyKey: keys.idempotencyKey }),
    );
  });
});

/** An idempotency lock that is taken only when the test grants it, to see what runs before. */
function lockHeldUntilGranted(): { readonly slowLock: IdempotencyPort; readonly grantLock: () => void } {
  let grantLock: () => void = () => undefined;
  const lock = new Promise<void>((resolve) => (grantLock = resolve));
  const slowLock: IdempotencyPort = {
    once: async (_key, work) => {
      await lock;
      return ranOnce(work);
    },
  };
  return { slowLock, grantLock };
}

describe('TransferContactUseCase: idempotency', () => {
  it('the Describe calls and the ledger read start while the idempotency lock is still pending', async () => {
    const { slowLock, grantLock } = lockHeldUntilGranted();
    const { useCase, connect, ledger } = setUp({ contact: rootTask }, { idempotency: slowLock });
    const execution = useCase.execute(toQueue, origin);

    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(connect.describeContact).toHaveBeenCalledWith('c-1');
    expect(connect.describeFlow).toHaveBeenCalledWith('f-1');
    expect(connect.describeQueue).toHaveBeenCalledWith('q-1');
    expect(ledger.read).toHaveBeenCalledTimes(1);
    expect(connect.transferContact).not.toHaveBeenCalled();

    grantLock();
    await expect(execution).resolves.toMatchObject({ result: transferred });
    expect(connect.transferContact).toHaveBeenCalledTimes(1);
  });

  it('with lockBeforeLookups, nothing is looked up until the lock is held, and a replay costs no Connect call', async () => {
    const { slowLock, grantLock } = lockHeldUntilGranted();
    const { useCase, connect, ledger } = setUp({ contact: rootTask }, { idempotency: slowLock });
    const execution = useCase.execute(toQueue, origin, { lockBeforeLookups: true });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(connect.describeContact).not.toHaveBeenCalled();
    expect(ledger.read).not.toHaveBeenCalled();
    grantLock();
    await expect(execution).resolves.toMatchObject({ result: transferred });

    const stored: IdempotencyPort = { once: async () => ({ result: transferred, replayed: true }) };
    const replay = setUp({ contact: rootTask }, { idempotency: stored });
    await expect(replay.useCase.execute(toQueue, origin, { lockBeforeLookups: true })).resolves.toMatchObject({ replayed: true });
    expect(replay.connect.describeContact).not.toHaveBeenCalled();
    expect(replay.connect.describeFlow).not.toHaveBeenCalled();
    expect(replay.connect.transferContact).not.toHaveBeenCalled();
  });

  it('passes the key and payload hash to the idempotency store', async () => {
    const keysSeen: { idempotencyKey: string; payloadHash: string }[] = [];
    const { useCase } = setUp({ contact: rootTask }, { idempotency: { once: (key, work) => (keysSeen.push(key), ranOnce(work)) } });
    await useCase.execute({ ...toQueue, ClientToken: 'token-1' }, origin);
    const keys = idempotencyKeysOf({ ...toQueue, ClientToken: 'token-1' }, instance.id);
    expect(keysSeen[0]).toMatchObject({ idempotencyKey: keys.idempotencyKey, payloadHash: keys.payloadHash });
  });

  it('a replay answered by the store is marked replayed and transfers nothing', async () => {
    const stored: IdempotencyPort = { once: async () => ({ result: transferred, replayed: true }) };
    const { useCase, connect, ledger } = setUp({ contact: rootTask }, { idempotency: stored });
    await expect(useCase.execute(toQueue, origin)).resolves.toEqual({ result: transferred, replayed: true });
    expect(connect.transferContact).not.toHaveBeenCalled();
    expect(ledger.reserve).not.toHaveBeenCalled();
    expect(ledger.complete).not.toHaveBeenCalled();
  });

  it('a lock that fails (store unreachable, in progress) fails the request without transferring', async () => {
    const failing: IdempotencyPort = { once: async () => Promise.reject(TransferError.of('REQUEST_IN_PROGRESS')) };
    const { useCase, connect } = setUp({}, { idempotency: failing });
    expect(await reasonOf(useCase.execute(toQueue, origin))).toBe('REQUEST_IN_PROGRESS');
    expect(connect.transferContact).not.toHaveBeenCalled();
  });

  it('a look-up failing while the lock answers first leaves no unhandled rejection behind', async () => {
    const failing: IdempotencyPort = { once: async () => Promise.reject(TransferError.of('INTERNAL_ERROR')) };
    const { useCase, connect, ledger } = setUp({}, { idempotency: failing });
    connect.describeContact.mockRejectedValueOnce(TransferError.of('UPSTREAM_FAILURE'));
    ledger.read.mockRejectedValueOnce(new Error('ledger unreachable'));
    expect(await reasonOf(useCase.execute(toQueue, origin))).toBe('INTERNAL_ERROR');
    await new Promise((resolve) => setTimeout(resolve, 5));
  });
});

describe('TransferContactUseCase: the pacing slot is taken only by a request about to call TransferContact (issue 21)', () => {
  const INTERVAL_MS = 500;
  /** The deployed pacing (2 a second, burst 2) and an idempotency store that lets one holder of a key in at a time. */
  function pacedWorld() {
    const pacing = new SharedPacing(new InMemoryPacer({ ratePerSecond: 2, burst: 2 }), () => undefined);
    const holders = new Set<string>();
    const oneAtATime: IdempotencyPort = {
      once: async (key, work) => {
        if (holders.has(key.idempotencyKey)) throw TransferError.of('REQUEST_IN_PROGRESS');
        holders.add(key.idempotencyKey);
        try {
          return await ranOnce(work);
        } finally {
          holders.delete(key.idempotencyKey);
        }
      },
    };
    const world = setUp({}, { pacing, idempotency: oneAtATime });
    // Contacts named `ended-*` have ended; every other one is an active task.
    world.connect.describeContact.mockImplementation(async (contactId) => ({ id: contactId, channel: 'TASK', disconnected: contactId.startsWith('ended-') }));
    const sentAt = new Map<string, number>();
    world.connect.transferContact.mockImplementation(async (request) => {
      sentAt.set(request.ContactId, Date.now());
      return transferred;
    });
    return { ...world, sentAt };
  }

  it.each([
    ['50 duplicates of another request', (_index: number): TransferRequest => ({ ...toQueue, ContactId: 'c-duplicated', ClientToken: 'the-same-token' })],
    ['50 rejections (ended contacts)', (index: number): TransferRequest => ({ ...toQueue, ContactId: `ended-${index}` })],
  ])('with %s arriving together, a fresh transfer is sent within one pacing interval of its arrival', async (_case, requestOf) => {
    vi.useFakeTimers({ now: NOW, toFake: ['Date', 'setTimeout'] });
    try {
      const { useCase, sentAt } = pacedWorld();
      const startedAt = Date.now();
      const together = Array.from({ length: 50 }, (_, index) => useCase.execute(requestOf(index), origin, { slotDeadline: startedAt + 7000 }).catch((error: unknown) => error));
      const fresh = useCase.execute({ ...toQueue, ContactId: 'c-fresh' }, origin, { slotDeadline: startedAt + 7000 });
      await vi.advanceTimersByTimeAsync(30_000);
      await expect(fresh).resolves.toMatchObject({ result: transferred });
      await Promise.all(together);
      expect(sentAt.get('c-fresh')! - startedAt).toBeLessThanOrEqual(INTERVAL_MS);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('TransferContactUseCase: a condition that does not hold (contract section 11)', () => {
  const withAgent: ContactFacts = { ...rootTask, queue: { id: 'q-1' }, agent: { id: 'u-1', connectedAt: new Date(NOW.getTime() - 60_000) } };
  const conditional: TransferRequest = { ...toQueue, Conditions: { NotWithAgent: true }, Note: 'agent may have it' };
  const keys = idempotencyKeysOf(conditional, instance.id);

  it('records the skip under the key for the answer window, then answers CONDITION_NOT_MET without reserving or sending', async () => {
    const { useCase, connect, ledger } = setUp({ contact: withAgent }, { skipAnswerMs: 3_600_000 });
    const error = await useCase.execute(conditional, origin).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ reason: 'CONDITION_NOT_MET', status: 409, type: 'ConditionalOperationFailedException' });
    expect((error as Error).message).toContain('agent u-1');
    expect(ledger.skip).toHaveBeenCalledExactlyOnceWith(
      expect.objectContaining({ idempotencyKey: keys.idempotencyKey, payloadHash: keys.payloadHash, request: conditional, origin, at: NOW, answeredUntil: new Date(NOW.getTime() + 3_600_000) }),
    );
    expect(ledger.reserve).not.toHaveBeenCalled();
    expect(connect.transferContact).not.toHaveBeenCalled();
  });

  it('answers a retry from the recorded skip while it lasts, even when the contact would now pass', async () => {
    const failed = { condition: 'NotWithAgent' as const, expected: 'true', observed: { AgentId: 'u-1' }, message: 'Condition NotWithAgent (true) did not hold: agent u-1 has had the contact.' };
    const view: LedgerView = { skip: { payloadHash: keys.payloadHash, failed, answeredUntil: new Date(NOW.getTime() + 1) } };
    const { useCase, connect, ledger } = setUp({ contact: rootTask, view });
    await expect(useCase.execute(conditional, origin)).rejects.toMatchObject({ reason: 'CONDITION_NOT_MET', message: failed.message });
    expect(ledger.skip).not.toHaveBeenCalled();
    expect(connect.transferContact).not.toHaveBeenCalled();
  });

  it('runs the rules again once the skip has expired', async () => {
    const failed = { condition: 'NotWithAgent' as const, expected: 'true', observed: {}, message: 'm' };
    const view: LedgerView = { skip: { payloadHash: keys.payloadHash, failed, answeredUntil: new Date(NOW.getTime() - 1) } };
    const { useCase, connect } = setUp({ contact: rootTask, view });
    await expect(useCase.execute(conditional, origin)).resolves.toMatchObject({ result: transferred });
    expect(connect.transferContact).toHaveBeenCalledTimes(1);
  });

  it('judges the conditions again on the contact as described right before the transfer: taken meanwhile, nothing is sent, the slot is released and the skip recorded', async () => {
    const { useCase, connect, ledger } = setUp({ contact: rootTask });
    connect.transferContact.mockImplementationOnce(async (_request, _token, precondition) => {
      const refusal = precondition?.(withAgent);
      if (refusal) throw new TransferNotSent(refusal);
      return transferred;
    });
    await expect(useCase.execute(conditional, origin)).rejects.toMatchObject({ reason: 'CONDITION_NOT_MET' });
    expect(ledger.release).toHaveBeenCalledWith(expect.objectContaining({ idempotencyKey: keys.idempotencyKey }), 'CONDITION_NOT_MET', NOW);
    expect(ledger.skip).toHaveBeenCalledWith(expect.objectContaining({ failed: expect.objectContaining({ condition: 'NotWithAgent' }) as unknown }));
    expect(ledger.release.mock.invocationCallOrder[0]).toBeLessThan(ledger.skip.mock.invocationCallOrder[0] ?? 0);
  });

  it('answers a ClientToken whose skip was recorded for another payload with CLIENT_TOKEN_REUSED, not the skip', async () => {
    const first: TransferRequest = { ...conditional, ClientToken: 'token-1' };
    const failed = { condition: 'NotWithAgent' as const, expected: 'true', observed: { AgentId: 'u-1' }, message: 'agent u-1' };
    const view: LedgerView = { skip: { payloadHash: idempotencyKeysOf(first, instance.id).payloadHash, failed, answeredUntil: new Date(NOW.getTime() + 60_000) } };
    const { useCase, connect } = setUp({ contact: rootTask, view });
    const error = await useCase.execute({ ...first, QueueId: 'q-2' }, origin).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ reason: 'CLIENT_TOKEN_REUSED', status: 409 });
    expect(connect.transferContact).not.toHaveBeenCalled();
  });

  it('runs the rules again at the very instant the skip ends', async () => {
    const failed = { condition: 'NotWithAgent' as const, expected: 'true', observed: {}, message: 'm' };
    const view: LedgerView = { skip: { payloadHash: keys.payloadHash, failed, answeredUntil: NOW } };
    const { useCase, connect } = setUp({ contact: rootTask, view });
    await expect(useCase.execute(conditional, origin)).resolves.toMatchObject({ result: transferred });
    expect(connect.transferContact).toHaveBeenCalledTimes(1);
  });

  it('answers retries from the skip for an hour when no answer window is configured', async () => {
    const { useCase, ledger } = setUp({ contact: withAgent });
    await expect(useCase.execute(conditional, origin)).rejects.toMatchObject({ reason: 'CONDITION_NOT_MET' });
    expect(ledger.skip).toHaveBeenCalledExactlyOnceWith(expect.objectContaining({ answeredUntil: new Date(NOW.getTime() + 60 * 60 * 1000) }));
  });

  it('records no skip when another rule refuses first, so a retry is judged afresh and no Skipped event is raised', async () => {
    const { useCase, connect, ledger } = setUp({ contact: { ...withAgent, disconnected: true } });
    await expect(useCase.execute(conditional, origin)).rejects.toMatchObject({ reason: 'CONTACT_NOT_ACTIVE' });
    expect(ledger.skip).not.toHaveBeenCalled();
    expect(connect.transferContact).not.toHaveBeenCalled();
  });

  it.each([
    ['gone', undefined],
    ['ended', { ...rootTask, disconnected: true }],
  ])('refuses with CONTACT_NOT_ACTIVE, sending nothing and recording no skip, when the second look finds the contact %s', async (_state, lastLook) => {
    const { useCase, connect, ledger } = setUp({ contact: rootTask });
    connect.transferContact.mockImplementationOnce(async (_request, _token, precondition) => {
      const refusal = precondition?.(lastLook);
      if (refusal) throw new TransferNotSent(refusal);
      return transferred;
    });
    await expect(useCase.execute(conditional, origin)).rejects.toMatchObject({ reason: 'CONTACT_NOT_ACTIVE' });
    expect(ledger.release).toHaveBeenCalledWith(expect.objectContaining({ idempotencyKey: keys.idempotencyKey }), 'CONTACT_NOT_ACTIVE', NOW);
    expect(ledger.skip).not.toHaveBeenCalled();
  });

  it('asks for no second look when the request has no conditions', async () => {
    const { useCase, connect } = setUp({ contact: rootTask });
    await useCase.execute(toQueue, origin);
    expect(connect.transferContact.mock.calls[0]).toHaveLength(2);
  });

  it('fails retryably, sending nothing, when the skip cannot be recorded (no answer without its event)', async () => {
    const { useCase, connect, ledger } = setUp({ contact: withAgent });
    ledger.skip.mockRejectedValueOnce(new Error('ledger unreachable'));
    const error = await useCase.execute(conditional, origin).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ reason: 'INTERNAL_ERROR', retryable: true });
    expect(connect.transferContact).not.toHaveBeenCalled();
  });
});

/** What the ledger holds under a request's key: by default the pending intent of slot 1 in tree c-1, written at NOW. */
function intentOf(request: TransferRequest, overrides: Partial<Intent> = {}): Intent {
  const keys = idempotencyKeysOf(request, instance.id);
  return { idempotencyKey: keys.idempotencyKey, treeId: 'c-1', transferNumber: 1, transfersInTree: 1, fromContactId: request.ContactId, status: 'PENDING', payloadHash: keys.payloadHash, intendedAt: NOW, ...overrides };
}

describe('TransferContactUseCase: transfers to an agent', () => {
  const agentFlow: FlowFacts = { found: true, published: true, type: 'AGENT_TRANSFER', state: 'ACTIVE' };
  const toAgent: TransferRequest = { ContactId: 'c-1', ContactFlowId: 'f-agent', UserId: 'u-1' };

  it('a Transfer to agent flow with the agent it names is transferred, and nothing is alerted', async () => {
    const { useCase, connect, alert } = setUp({ contact: rootTask, flow: agentFlow });
    await expect(useCase.execute(toAgent, origin)).resolves.toEqual({ result: transferred, replayed: false, treeId: 'c-1' });
    expect(connect.describeUser).toHaveBeenCalledExactlyOnceWith('u-1');
    expect(connect.transferContact).toHaveBeenCalledExactlyOnceWith(toAgent, idempotencyKeysOf(toAgent, instance.id).connectClientToken);
    expect(alert).not.toHaveBeenCalled();
  });

  it('an agent Connect does not know is USER_NOT_FOUND, and nothing is reserved or sent', async () => {
    const { useCase, connect, ledger } = setUp({ contact: rootTask, flow: agentFlow, user: { found: false } });
    expect(await reasonOf(useCase.execute(toAgent, origin))).toBe('USER_NOT_FOUND');
    expect(ledger.reserve).not.toHaveBeenCalled();
    expect(connect.transferContact).not.toHaveBeenCalled();
  });

  it('a queue transfer describes no agent', async () => {
    const { useCase, connect } = setUp({ contact: rootTask });
    await useCase.execute(toQueue, origin);
    expect(connect.describeQueue).toHaveBeenCalledExactlyOnceWith('q-1');
    expect(connect.describeUser).not.toHaveBeenCalled();
  });

  it('a ClientToken used for one agent and sent again for another is CLIENT_TOKEN_REUSED, not the first answer', async () => {
    const first: TransferRequest = { ...toAgent, ClientToken: 'token-1' };
    const recorded = intentOf(first, { status: 'TRANSFERRED', result: transferred });
    const { useCase, connect } = setUp({ contact: rootTask, flow: agentFlow, view: { intent: recorded } });
    expect(await reasonOf(useCase.execute({ ...first, UserId: 'u-2' }, origin))).toBe('CLIENT_TOKEN_REUSED');
    await expect(useCase.execute(first, origin)).resolves.toMatchObject({ result: transferred, replayed: true });
    expect(connect.transferContact).not.toHaveBeenCalled();
  });
});

describe("TransferContactUseCase: Connect's 7-day ClientToken window", () => {
  const withToken: TransferRequest = { ...toQueue, ClientToken: 'token-1' };
  const keys = idempotencyKeysOf(withToken, instance.id);
  const DAY_MS = 24 * 60 * 60 * 1000;
  const pendingSince = (ageMs: number): Intent => intentOf(withToken, { intendedAt: new Date(NOW.getTime() - ageMs) });
  const ended: ContactFacts = { ...rootTask, disconnected: true };

  it.each<[string, number]>([
    ['an hour', 60 * 60 * 1000],
    ['six days', 6 * DAY_MS],
    ['exactly seven days', 7 * DAY_MS],
  ])('an intent pending for %s whose contact ended is re-sent with its ClientToken, silently', async (_age, ageMs) => {
    const { useCase, connect, alert } = setUp({ contact: ended, view: { intent: pendingSince(ageMs) } });
    await expect(useCase.execute(withToken, origin)).resolves.toMatchObject({ result: transferred, replayed: true });
    expect(connect.transferContact).toHaveBeenCalledExactlyOnceWith(withToken, keys.connectClientToken);
    expect(alert).not.toHaveBeenCalled();
  });

  it('an intent pending for seven days and a second is not re-sent: Connect may have forgotten the token', async () => {
    const { useCase, connect, alert } = setUp({ contact: ended, view: { intent: pendingSince(7 * DAY_MS + 1000) } });
    expect(await reasonOf(useCase.execute(withToken, origin))).toBe('INTERNAL_ERROR');
    expect(connect.transferContact).not.toHaveBeenCalled();
    expect(alert).toHaveBeenCalledOnce();
  });
});

describe('TransferContactUseCase: what a door and an operator are told', () => {
  it('a transfer recorded in full is not marked unrecorded and raises no alert', async () => {
    const { useCase, alert } = setUp({ contact: rootTask });
    const outcome = await useCase.execute(toQueue, origin);
    expect(outcome).toEqual({ result: transferred, replayed: false, treeId: 'c-1' });
    expect(alert).not.toHaveBeenCalled();
  });

  it('a transfer the ledger failed to record is marked unrecorded, so the buffer has it redelivered', async () => {
    const { useCase } = setUp({ contact: rootTask, completeFails: true });
    await expect(useCase.execute(toQueue, origin)).resolves.toEqual({ result: transferred, replayed: false, treeId: 'c-1', unrecorded: true });
  });

  it('a replay whose ledger could not be read is marked unrecorded: the next replay looks again', async () => {
    const stored: IdempotencyPort = { once: async () => ({ result: transferred, replayed: true }) };
    const { useCase, ledger } = setUp({ contact: rootTask }, { idempotency: stored });
    ledger.read.mockRejectedValueOnce(new Error('ledger unreachable'));
    await expect(useCase.execute(toQueue, origin)).resolves.toEqual({ result: transferred, replayed: true, unrecorded: true });
  });

  it('a replay whose ledger already holds the transfer records nothing and is not marked unrecorded', async () => {
    const done = intentOf(toQueue, { status: 'TRANSFERRED', result: transferred });
    const stored: IdempotencyPort = { once: async () => ({ result: transferred, replayed: true }) };
    const { useCase, ledger, alert } = setUp({ contact: rootTask, view: { intent: done } }, { idempotency: stored });
    await expect(useCase.execute(toQueue, origin)).resolves.toEqual({ result: transferred, replayed: true });
    expect(ledger.complete).not.toHaveBeenCalled();
    expect(alert).not.toHaveBeenCalled();
  });

  it('a replay whose pending intent could not be recorded again is marked unrecorded', async () => {
    const pending = intentOf(toQueue);
    const stored: IdempotencyPort = { once: async () => ({ result: transferred, replayed: true }) };
    const { useCase } = setUp({ contact: rootTask, view: { intent: pending }, completeFails: true }, { idempotency: stored });
    await expect(useCase.execute(toQueue, origin)).resolves.toEqual({ result: transferred, replayed: true, unrecorded: true });
  });

  it('the ledger holding a transfer whose idempotency record was lost answers it as a replay; a store failure then is alerted', async () => {
    const keys = idempotencyKeysOf(toQueue, instance.id);
    const done = intentOf(toQueue, { status: 'TRANSFERRED', result: transferred });
    const storeFails: IdempotencyPort = { once: (_key, work) => ranOnce(work, { storeFailure: new Error('store down') }) };
    const { useCase, connect, alert } = setUp({ contact: rootTask, view: { intent: done } }, { idempotency: storeFails });
    await expect(useCase.execute(toQueue, origin)).resolves.toEqual({ result: transferred, replayed: true, treeId: 'c-1' });
    expect(connect.transferContact).not.toHaveBeenCalled();
    expect(alert).toHaveBeenCalledExactlyOnceWith(
      expect.stringMatching(/ledger already holds/),
      expect.objectContaining({ fromContactId: 'c-1', queueId: 'q-1', idempotencyKey: keys.idempotencyKey, error: expect.objectContaining({ message: 'store down' }) }),
    );
  });

  it('a reservation that cannot be released is alerted with the slot and the reason, and the refusal still answered', async () => {
    const { useCase, connect, ledger, alert } = setUp({ contact: rootTask });
    connect.transferContact.mockRejectedValueOnce(TransferError.connectRejected(404, 'ResourceNotFoundException', 'The contact has ended'));
    ledger.release.mockRejectedValueOnce(new Error('ledger unreachable'));
    expect(await reasonOf(useCase.execute(toQueue, origin))).toBe('CONNECT_REJECTED');
    expect(alert).toHaveBeenCalledExactlyOnceWith(
      expect.stringMatching(/could not be released/),
      expect.objectContaining({
        treeId: 'c-1',
        transferNumber: 1,
        idempotencyKey: idempotencyKeysOf(toQueue, instance.id).idempotencyKey,
        reason: 'ResourceNotFoundException',
        error: expect.objectContaining({ message: 'ledger unreachable' }),
      }),
    );
  });
  it('a ledger write that fails without saying why is still a failure: marked unrecorded and alerted', async () => {
    const { useCase, ledger, alert } = setUp({ contact: rootTask });
    ledger.complete.mockImplementationOnce(() => Promise.reject(undefined));
    await expect(useCase.execute(toQueue, origin)).resolves.toMatchObject({ unrecorded: true });
    expect(alert).toHaveBeenCalledExactlyOnceWith(expect.stringMatching(/ledger did not record it/), expect.objectContaining({ error: expect.objectContaining({ message: expect.stringMatching(/ledger write failed/) }) }));
  });

  it('a transfer the ledger holds without its result cannot be answered: INTERNAL_ERROR, nothing sent', async () => {
    const withoutResult = intentOf(toQueue, { status: 'TRANSFERRED' });
    const { useCase, connect } = setUp({ contact: rootTask, view: { intent: withoutResult } });
    expect(await reasonOf(useCase.execute(toQueue, origin))).toBe('INTERNAL_ERROR');
    expect(connect.transferContact).not.toHaveBeenCalled();
  });
});

describe('TransferContactUseCase: what a caller reads when a retry is needed', () => {
  const withToken: TransferRequest = { ...toQueue, ClientToken: 'token-1' };
  const pendingSince = (ageMs: number): Intent => intentOf(withToken, { intendedAt: new Date(NOW.getTime() - ageMs) });

  it('another transfer of the tree took the slot twice: the answer says so', async () => {
    const { useCase, ledger } = setUp({ contact: rootTask, tally: { counted: 1, lastNumber: 1 } });
    ledger.reserve.mockResolvedValueOnce('slot-taken').mockResolvedValueOnce('slot-taken');
    await expect(useCase.execute(toQueue, origin)).rejects.toThrow(/Another transfer of this contact's tree is in progress/);
  });

  it('an earlier attempt settled meanwhile: the answer says a retry hears its outcome', async () => {
    const { useCase, ledger } = setUp({ contact: rootTask, view: { intent: pendingSince(60_000) } });
    ledger.attempting.mockResolvedValueOnce(false);
    await expect(useCase.execute(withToken, origin)).rejects.toThrow(/settled meanwhile; retry to hear its outcome/);
  });

  it('an earlier attempt too old to confirm: the answer says its outcome cannot be confirmed', async () => {
    const { useCase } = setUp({ contact: { ...rootTask, disconnected: true }, view: { intent: pendingSince(8 * 24 * 60 * 60 * 1000) } });
    await expect(useCase.execute(withToken, origin)).rejects.toThrow(/cannot be confirmed/);
  });

  it("a ledger that cannot take the reservation: INTERNAL_ERROR, with the ledger's error kept for the log", async () => {
    const { useCase, ledger } = setUp({ contact: rootTask });
    const unreachable = new Error('ledger unreachable');
    ledger.reserve.mockRejectedValueOnce(unreachable);
    await expect(useCase.execute(toQueue, origin)).rejects.toMatchObject({ reason: 'INTERNAL_ERROR', cause: unreachable });
  });

  it('a pending intent whose contact Connect no longer finds is kept for the sweeper, and the answer names the rule', async () => {
    const { useCase, connect, ledger } = setUp({ view: { intent: pendingSince(60_000) } });
    const error = await useCase.execute(withToken, origin).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ reason: 'REQUEST_IN_PROGRESS', retryable: true });
    expect((error as Error).message).toContain('CONTACT_NOT_FOUND');
    expect(ledger.release).not.toHaveBeenCalled();
    expect(connect.transferContact).not.toHaveBeenCalled();
  });
});

describe('TransferContactUseCase: without a clock of its own', () => {
  it('stamps the reservation and the record with the current time', async () => {
    const { useCase, ledger } = setUp({ contact: rootTask }, { now: undefined });
    const before = Date.now();
    await useCase.execute(toQueue, origin);
    const after = Date.now();
    const stampedAt = reserved(ledger).at.getTime();
    expect(stampedAt).toBeGreaterThanOrEqual(before);
    expect(stampedAt).toBeLessThanOrEqual(after);
    expect(ledger.complete.mock.calls[0]![2].getTime()).toBeGreaterThanOrEqual(stampedAt);
  });
});

describe('TransferContactUseCase: the sweeper settles a pending intent', () => {
  const keys = idempotencyKeysOf(toQueue, instance.id);
  const pending = intentOf(toQueue, { intendedAt: new Date(NOW.getTime() - 60 * 60 * 1000) });
  const ended: ContactFacts = { ...rootTask, disconnected: true };

  it('whose contact ended and Connect confirms the transfer: recorded, and reported transferred', async () => {
    const { useCase, connect, ledger, alert } = setUp({ contact: ended, view: { intent: pending } });
    await expect(useCase.settle(toQueue, origin)).resolves.toBe('transferred');
    expect(connect.transferContact).toHaveBeenCalledExactlyOnceWith(toQueue, keys.connectClientToken);
    expect(ledger.complete).toHaveBeenCalledExactlyOnceWith(pending, transferred, NOW);
    expect(ledger.release).not.toHaveBeenCalled();
    expect(alert).not.toHaveBeenCalled();
  });

  it('whose contact Connect no longer finds is asked about the same way', async () => {
    const { useCase, connect } = setUp({ view: { intent: pending } });
    await expect(useCase.settle(toQueue, origin)).resolves.toBe('transferred');
    expect(connect.transferContact).toHaveBeenCalledOnce();
  });

  it('whose contact is still active: never transferred, so its slot is released and nothing sent', async () => {
    const { useCase, connect, ledger } = setUp({ contact: rootTask, view: { intent: pending } });
    await expect(useCase.settle(toQueue, origin)).resolves.toBe('released');
    expect(ledger.release).toHaveBeenCalledExactlyOnceWith(pending, 'ABANDONED_CONTACT_ACTIVE', NOW);
    expect(connect.transferContact).not.toHaveBeenCalled();
    expect(ledger.complete).not.toHaveBeenCalled();
  });

  it('whose re-sent transfer Connect refuses: released with Connect\'s reason', async () => {
    const { useCase, connect, ledger } = setUp({ contact: ended, view: { intent: pending } });
    connect.transferContact.mockRejectedValueOnce(TransferError.connectRejected(400, 'InvalidRequestException', 'The contact has ended'));
    await expect(useCase.settle(toQueue, origin)).resolves.toBe('released');
    expect(ledger.release).toHaveBeenCalledExactlyOnceWith(pending, 'InvalidRequestException', NOW);
    expect(ledger.complete).not.toHaveBeenCalled();
  });

  it.each<[string, LedgerView]>([
    ['no intent under the key', {}],
    ['an intent already transferred', { intent: { ...pending, status: 'TRANSFERRED', result: transferred } }],
    ['an intent already released', { intent: { ...pending, status: 'RELEASED' } }],
    ['a pending intent of another payload', { intent: { ...pending, payloadHash: 'another-payload' } }],
  ])('that finds %s leaves it alone: not-pending, nothing sent or written', async (_case, view) => {
    const { useCase, connect, ledger, alert } = setUp({ contact: ended, view });
    await expect(useCase.settle(toQueue, origin)).resolves.toBe('not-pending');
    expect(connect.transferContact).not.toHaveBeenCalled();
    expect(ledger.complete).not.toHaveBeenCalled();
    expect(ledger.release).not.toHaveBeenCalled();
    expect(ledger.setAside).not.toHaveBeenCalled();
    expect(alert).not.toHaveBeenCalled();
  });

  it('whose transfer the idempotency store already holds (its request finished but the ledger write failed): recorded from it, nothing sent', async () => {
    const stored: IdempotencyPort = { once: async () => ({ result: transferred, replayed: true }) };
    const { useCase, connect, ledger } = setUp({ contact: ended, view: { intent: pending } }, { idempotency: stored });
    await expect(useCase.settle(toQueue, origin)).resolves.toBe('transferred');
    expect(ledger.complete).toHaveBeenCalledExactlyOnceWith(pending, transferred, NOW);
    expect(connect.transferContact).not.toHaveBeenCalled();
  });

  it('whose key a request holds right now is left to that request: in-progress, nothing read or sent', async () => {
    const busy: IdempotencyPort = { once: async () => Promise.reject(TransferError.of('REQUEST_IN_PROGRESS')) };
    const { useCase, connect, ledger } = setUp({ contact: ended, view: { intent: pending } }, { idempotency: busy });
    await expect(useCase.settle(toQueue, origin)).resolves.toBe('in-progress');
    expect(connect.transferContact).not.toHaveBeenCalled();
    expect(ledger.release).not.toHaveBeenCalled();
  });

  it('a re-send Connect does not answer, or a ledger it cannot read, fails the settlement so a later sweep tries again', async () => {
    const throttled = setUp({ contact: ended, view: { intent: pending } });
    throttled.connect.transferContact.mockRejectedValue(TransferError.of('THROTTLED'));
    await expect(throttled.useCase.settle(toQueue, origin)).rejects.toMatchObject({ reason: 'THROTTLED' });
    expect(throttled.ledger.release).not.toHaveBeenCalled();

    const unreadable = setUp({ contact: ended, view: { intent: pending } });
    unreadable.ledger.read.mockRejectedValueOnce(new Error('ledger unreachable'));
    await expect(unreadable.useCase.settle(toQueue, origin)).rejects.toMatchObject({ reason: 'INTERNAL_ERROR' });
    expect(unreadable.connect.transferContact).not.toHaveBeenCalled();
  });

  it('a transfer Connect confirms but the ledger fails to record fails the settlement and is alerted', async () => {
    const { useCase, alert } = setUp({ contact: ended, view: { intent: pending }, completeFails: true });
    await expect(useCase.settle(toQueue, origin)).rejects.toThrow(/did not record/);
    expect(alert).toHaveBeenCalledExactlyOnceWith(expect.stringMatching(/ledger did not record it/), expect.objectContaining({ treeId: 'c-1', transferNumber: 1, toContactId: transferred.ContactId }));
  });
});
