import { describe, expect, expectTypeOf, it } from 'vitest';
import type * as z from 'zod/mini';
import { CLIENT_REASONS, CONTRACT_REASONS, EDGE_REASONS, TRANSFER_CONTACT_MEMBERS } from '../../client/index';
import type {
  ContactTransfer,
  ContactTransferSchedule,
  ContractReason,
  ListContactTransferSchedulesResult,
  ListContactTransfersResult,
  ScheduleOutcome,
  ScheduleState,
  TransferConditions,
  TransferContactRequest,
} from '../../client/index';
import { SCHEDULE_STATES } from '../../client/index';
import type { historyPageSchema } from '../../lambda/domain/history';
import { REASONS } from '../../lambda/domain/errors';
import type { Reason } from '../../lambda/domain/errors';
import { transferRequestSchema } from '../../lambda/domain/request';
import type * as server from '../../lambda/domain/schedule';
import { EDGE_ERRORS } from '../../lib/openapi';

/**
 * The client is a package of its own and cannot import the function's code, so it repeats the request's members and
 * the reasons. These tests fail the moment the server's schema or error table and the client's copy part ways.
 */
describe('the client against the server', () => {
  it('names the request members of the server schema, in its order', () => {
    expect([...TRANSFER_CONTACT_MEMBERS]).toEqual(Object.keys(transferRequestSchema.shape));
  });

  it('types the request exactly as the server schema accepts it: the same members, the same required ones', () => {
    // Checked by tsc (npm test type-checks the tests): a member added, removed or made optional on one side fails.
    type ServerRequest = z.input<typeof transferRequestSchema>;
    expectTypeOf<Omit<TransferContactRequest, 'Conditions'>>().toEqualTypeOf<Readonly<Omit<ServerRequest, 'Conditions'>>>();
    expectTypeOf<TransferConditions>().toEqualTypeOf<Readonly<NonNullable<ServerRequest['Conditions']>>>();
  });

  it('types a history page exactly as the server answers it', () => {
    expectTypeOf<ContactTransfer>().toEqualTypeOf<Readonly<z.infer<typeof historyPageSchema>['Transfers'][number]>>();
    expectTypeOf<ListContactTransfersResult['NextToken']>().toEqualTypeOf<z.infer<typeof historyPageSchema>['NextToken']>();
  });

  it('types a schedule and its outcome exactly as the server answers them', () => {
    expectTypeOf<ScheduleState>().toEqualTypeOf<server.ScheduleState>();
    expectTypeOf<(typeof SCHEDULE_STATES)[number]>().toEqualTypeOf<server.ScheduleState>();
    expect(new Set(SCHEDULE_STATES).size).toBe(3);
    expectTypeOf<ScheduleOutcome>().toEqualTypeOf<server.ScheduleOutcome>();
    // The server's Request is the parsed request (ids resolved, ScheduleId of its own); the caller reads the members it sent.
    expectTypeOf<Omit<ContactTransferSchedule, 'Request'>>().toEqualTypeOf<Omit<server.Schedule, 'Request'>>();
    expectTypeOf<ListContactTransferSchedulesResult['NextToken']>().toEqualTypeOf<server.SchedulePage['NextToken']>();
  });

  it("knows every reason of the server's error table, and no other", () => {
    expect([...CONTRACT_REASONS].sort()).toEqual([...Object.keys(REASONS), 'CONNECT_REJECTED'].sort());
    expectTypeOf<ContractReason>().toEqualTypeOf<Reason>();
  });


  it('knows the reasons the API itself answers with (lib/openapi.ts, tied to the template), and keeps its own apart', () => {
    const edgeOnly = EDGE_ERRORS.map((error) => error.reason).filter((reason) => !(CONTRACT_REASONS as readonly string[]).includes(reason));
    expect([...EDGE_REASONS].sort()).toEqual([...new Set(edgeOnly)].sort());
    const known = new Set<string>([...CONTRACT_REASONS, ...EDGE_REASONS]);
    expect(CLIENT_REASONS.filter((reason) => known.has(reason))).toEqual([]);
  });
});
