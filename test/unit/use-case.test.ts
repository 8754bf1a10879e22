import { describe, expect, it, vi } from 'vitest';
import { parseInstanceArn } from '../../lambda/domain/arn';
import type { ConnectInstance } from '../../lambda/domain/arn';
import { TransferError } from '../../lambda/domain/errors';
import { idempotencyKeysOf } from '../../lambda/domain/idempotency-keys';
import type { TransferRequest } from '../../lambda/domain/request';
import type {
  ConnectPort,
  ContactFacts,
  FlowFacts,
  IdempotencyPort,
  LedgerPort,
  LedgerView,
  Origin,
  QueueFacts,
  TransferRecord,
  TransferResult,
  UserFacts,
} from '../../lambda/ports';
import { TransferContactUseCase } from '../../lambda/usecase/transfer-contact';
import type { TransferDependencies } from '../../lambda/usecase/transfer-contact';

const INSTANCE_ARN = 'arn:aws:connect:eu-west-1:123456789012:instance/11111111-1111-4111-8111-111111111111';
const instance = parseInstanceArn(INSTANCE_ARN) as ConnectInstance;
const origin: Origin = { door: 'eventbridge', caller: 'internal.contact-transfer/evt-1', correlationId: 'evt-1' };
const toQueue: TransferRequest = { ContactId: 'c-1', ContactFlowId: 'f-1', QueueId: 'q-1' };
const transferred: TransferResult = { ContactId: 'c-new', ContactArn: `${INSTANCE_ARN}/contact/c-new` };

interface World {
  contact?: ContactFacts;
  flow?: FlowFacts;
  queue?: QueueFacts;
  user?: UserFacts;
  view?: LedgerView;
  treeCount?: number;
  recordFails?: boolean;
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
    countTransfers: vi.fn<LedgerPort['countTransfers']>(async () => world.treeCount ?? 0),
    record: vi.fn<LedgerPort['record']>(async () => {
      if (world.recordFails) throw new Error('ledger table unreachable');
    }),
  } satisfies LedgerPort;
}

/** Runs the work every time, as a store that has never seen the key would. */
const runsWork: IdempotencyPort = { once: async (_key, work) => ({ result: await work(), replayed: false }) };

function setUp(world: World, overrides: Partial<TransferDependencies> = {}) {
  const connect = fakeConnect(world);
  const ledger = fakeLedger(world);
  const onLedgerFailure = vi.fn<TransferDependencies['onLedgerFailure']>();
  const useCase = new TransferContactUseCase({
    instance,
    policy: { allowedChannels: ['TASK', 'EMAIL'], maxTransfers: 11 },
    connect,
    ledger,
    idempotency: runsWork,
    onLedgerFailure,
    ...overrides,
  });
  return { useCase, connect, ledger, onLedgerFailure };
}

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

function recorded(ledger: ReturnType<typeof fakeLedger>): TransferRecord {
  expect(ledger.record).toHaveBeenCalledTimes(1);
  return ledger.record.mock.calls[0]![0];
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
  ])('%s is rejected with %s before Connect is asked to transfer, and nothing is recorded', async (_case, world, reason) => {
    const { useCase, connect, ledger } = setUp(world);
    expect(await reasonOf(useCase.execute(toQueue, origin))).toBe(reason);
    expect(connect.transferContact).not.toHaveBeenCalled();
    expect(ledger.record).not.toHaveBeenCalled();
  });

  it('a failure of Connect reaches the caller and nothing is recorded', async () => {
    const { useCase, connect, ledger } = setUp({ contact: rootTask });
    connect.transferContact.mockRejectedValueOnce(TransferError.of('THROTTLED'));
    expect(await reasonOf(useCase.execute(toQueue, origin))).toBe('THROTTLED');
    expect(ledger.record).not.toHaveBeenCalled();
  });
});

describe('TransferContactUseCase: rule 14 counts transfers from the ledger', () => {
  it.each<[number, boolean]>([
    [9, true],
    [10, true],
    [11, false],
    [12, false],
  ])('%i transfers recorded for the tree, maxTransfers 11: transferred=%s', async (count, allowed) => {
    const { useCase, connect, ledger } = setUp({ contact: transferredTask, view: { transfersInTree: { treeId: 'c-0', count } } });
    if (allowed) {
      await useCase.execute(toQueue, origin);
      expect(recorded(ledger).transferNumber).toBe(count + 1);
    } else {
      expect(await reasonOf(useCase.execute(toQueue, origin))).toBe('TRANSFER_LIMIT_REACHED');
      expect(connect.transferContact).not.toHaveBeenCalled();
    }
    expect(ledger.countTransfers).not.toHaveBeenCalled();
  });

  it.each<[string, ContactFacts]>([
    ['without InitialContactId', rootTask],
    ['whose InitialContactId is itself', { ...rootTask, initialContactId: 'c-1' }],
  ])('a contact %s with no ledger entry is a tree root: count 0, no countTransfers', async (_case, contact) => {
    const { useCase, ledger } = setUp({ contact });
    await useCase.execute(toQueue, origin);
    expect(ledger.countTransfers).not.toHaveBeenCalled();
    expect(recorded(ledger)).toMatchObject({ treeId: 'c-1', transferNumber: 1 });
  });

  it('a contact of a longer tree that the gateway did not make is counted by its tree id', async () => {
    const { useCase, ledger } = setUp({ contact: transferredTask, treeCount: 4 });
    await useCase.execute(toQueue, origin);
    expect(ledger.countTransfers).toHaveBeenCalledExactlyOnceWith('c-0');
    expect(recorded(ledger)).toMatchObject({ treeId: 'c-0', transferNumber: 5 });
  });

  it('that count also enforces the limit', async () => {
    const { useCase, connect } = setUp({ contact: transferredTask, treeCount: 11 });
    expect(await reasonOf(useCase.execute(toQueue, origin))).toBe('TRANSFER_LIMIT_REACHED');
    expect(connect.transferContact).not.toHaveBeenCalled();
  });
});

describe('TransferContactUseCase: a result already in the ledger', () => {
  const withToken: TransferRequest = { ...toQueue, ClientToken: 'token-1' };
  const keys = idempotencyKeysOf(withToken, instance.id);

  it('with the same payload is returned as a replay without transferring again', async () => {
    // The contact has since been transferred, so the rules alone would now reject it.
    const { useCase, connect, ledger } = setUp({
      contact: { ...rootTask, disconnected: true },
      view: { recorded: { result: transferred, payloadHash: keys.payloadHash } },
    });
    await expect(useCase.execute(withToken, origin)).resolves.toMatchObject({ result: transferred, replayed: true });
    expect(ledger.read).toHaveBeenCalledWith('c-1', keys.idempotencyKey);
    expect(connect.transferContact).not.toHaveBeenCalled();
    expect(ledger.record).not.toHaveBeenCalled();
  });

  it('with another payload under the same token is CLIENT_TOKEN_REUSED', async () => {
    const { useCase, connect } = setUp({ contact: rootTask, view: { recorded: { result: transferred, payloadHash: 'another-payload' } } });
    expect(await reasonOf(useCase.execute(withToken, origin))).toBe('CLIENT_TOKEN_REUSED');
    expect(connect.transferContact).not.toHaveBeenCalled();
  });
});

describe('TransferContactUseCase: the ledger record', () => {
  it('carries tree, transfer number, both contacts, the request, who asked and the idempotency key', async () => {
    const { useCase, ledger } = setUp({ contact: transferredTask, view: { transfersInTree: { treeId: 'c-0', count: 2 } } });
    await useCase.execute(toQueue, origin);
    const keys = idempotencyKeysOf(toQueue, instance.id);
    const record = recorded(ledger);
    expect(record).toMatchObject({
      treeId: 'c-0',
      transferNumber: 3,
      fromContactId: 'c-1',
      result: transferred,
      request: toQueue,
      origin,
      idempotencyKey: keys.idempotencyKey,
      payloadHash: keys.payloadHash,
    });
    expect(record.at).toBeInstanceOf(Date);
  });

  it('a failing ledger write still answers success and reaches an operator', async () => {
    const { useCase, onLedgerFailure } = setUp({ contact: rootTask, recordFails: true });
    await expect(useCase.execute(toQueue, origin)).resolves.toMatchObject({ result: transferred, replayed: false });
    expect(onLedgerFailure).toHaveBeenCalledExactlyOnceWith(expect.objectContaining({ message: 'ledger table unreachable' }), {
      contactId: 'c-1',
      result: transferred,
    });
  });

  it('the ledger write is done before execute answers', async () => {
    let finishWrite: () => void = () => undefined;
    const { useCase, ledger } = setUp({ contact: rootTask });
    ledger.record.mockImplementationOnce(() => new Promise<void>((resolve) => (finishWrite = resolve)));
    let answered = false;
    const execution = useCase.execute(toQueue, origin).then(() => (answered = true));
    await vi.waitFor(() => expect(ledger.record).toHaveBeenCalled());
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(answered).toBe(false);
    finishWrite();
    await execution;
    expect(answered).toBe(true);
  });
});

describe('TransferContactUseCase: idempotency', () => {
  it('the Describe calls and the ledger read start while the idempotency lock is still pending', async () => {
    let grantLock: () => void = () => undefined;
    const lock = new Promise<void>((resolve) => (grantLock = resolve));
    const slowLock: IdempotencyPort = {
      once: async (_key, work) => {
        await lock;
        return { result: await work(), replayed: false };
      },
    };
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

  it('passes the key and payload hash to the idempotency store', async () => {
    const once = vi.fn<IdempotencyPort['once']>(async (_key, work) => ({ result: await work(), replayed: false }));
    const { useCase } = setUp({ contact: rootTask }, { idempotency: { once } });
    await useCase.execute({ ...toQueue, ClientToken: 'token-1' }, origin);
    const keys = idempotencyKeysOf({ ...toQueue, ClientToken: 'token-1' }, instance.id);
    expect(once.mock.calls[0]![0]).toMatchObject({ idempotencyKey: keys.idempotencyKey, payloadHash: keys.payloadHash });
  });

  it('a replay answered by the store is marked replayed and transfers nothing', async () => {
    const stored: IdempotencyPort = { once: async () => ({ result: transferred, replayed: true }) };
    const { useCase, connect, ledger } = setUp({ contact: rootTask }, { idempotency: stored });
    await expect(useCase.execute(toQueue, origin)).resolves.toEqual({ result: transferred, replayed: true });
    expect(connect.transferContact).not.toHaveBeenCalled();
    expect(ledger.record).not.toHaveBeenCalled();
  });

  it('a lock that fails (store unreachable, in progress) fails the request without transferring', async () => {
    const failing: IdempotencyPort = { once: async () => Promise.reject(TransferError.of('REQUEST_IN_PROGRESS')) };
    const { useCase, connect } = setUp({}, { idempotency: failing });
    expect(await reasonOf(useCase.execute(toQueue, origin))).toBe('REQUEST_IN_PROGRESS');
    expect(connect.transferContact).not.toHaveBeenCalled();
  });

  it('a look-up failing while the lock answers first leaves no unhandled rejection behind', async () => {
    const failing: IdempotencyPort = { once: async () => Promise.reject(TransferError.of('INTERNAL_ERROR')) };
    const { useCase, connect } = setUp({}, { idempotency: failing });
    connect.describeContact.mockRejectedValueOnce(TransferError.of('UPSTREAM_FAILURE'));
    expect(await reasonOf(useCase.execute(toQueue, origin))).toBe('INTERNAL_ERROR');
    await new Promise((resolve) => setTimeout(resolve, 5));
  });
});
