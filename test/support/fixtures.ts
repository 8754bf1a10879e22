import { randomUUID } from 'node:crypto';
import type { ConnectSimulator } from '../../simulator/connect-simulator';

/**
 * One of each kind of Connect resource a rule looks at, created fresh in the simulator so that every test can
 * transfer its own contact without depending on what another test did to a shared one.
 */
export function connectFixtures(connect: ConnectSimulator) {
  const id = (): string => randomUUID();
  const flow = (Type: string, State = 'ACTIVE', Status = 'PUBLISHED'): string =>
    connect.addFlow({ Id: id(), Name: `${Type} ${State} ${Status}`, Type, State, Status }).Id;
  const flows = {
    inbound: flow('CONTACT_FLOW'),
    agentTransfer: flow('AGENT_TRANSFER'),
    queueTransfer: flow('QUEUE_TRANSFER'),
    customerQueue: flow('CUSTOMER_QUEUE'),
    archived: flow('CONTACT_FLOW', 'ARCHIVED'),
    unpublished: flow('CONTACT_FLOW', 'ACTIVE', 'SAVED'),
  };
  const queues = {
    enabled: connect.addQueue({ Id: id(), Name: 'Enabled queue', Status: 'ENABLED' }).Id,
    disabled: connect.addQueue({ Id: id(), Name: 'Disabled queue', Status: 'DISABLED' }).Id,
  };
  const users = { agent: connect.addUser({ Id: id(), Username: 'agent' }).Id };
  const contact = (Channel = 'TASK', ended = false): string =>
    connect.addContact({
      Id: id(),
      Channel,
      InitiationMethod: 'API',
      ...(ended && { DisconnectTimestamp: new Date(Date.now() - 60_000).toISOString() }),
    }).Id;
  return { flows, queues, users, contact, unknownId: id };
}

/** What connectFixtures creates in one simulator. */
export type ConnectFixtures = ReturnType<typeof connectFixtures>;
