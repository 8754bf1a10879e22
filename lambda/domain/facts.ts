/**
 * What Connect says about the resources a request names, in the terms rules 5-14 read. They belong to the domain:
 * the rules decide on them, and the Connect port (ports.ts) promises to answer in them.
 */

export type Channel = 'VOICE' | 'CHAT' | 'TASK' | 'EMAIL' | (string & {});

export interface ContactFacts {
  readonly id: string;
  readonly channel: Channel;
  /** Connect's InitialContactId: the first contact of the tree that transfers build. */
  readonly initialContactId?: string;
  readonly disconnected: boolean;
}

export type FlowFacts =
  | { readonly found: false }
  /** Connect answers ContactFlowNotPublishedException without describing the flow. */
  | { readonly found: true; readonly published: false }
  | { readonly found: true; readonly published: true; readonly type: string; readonly state: string };

export interface QueueFacts {
  readonly found: boolean;
  readonly enabled: boolean;
}

export interface UserFacts {
  readonly found: boolean;
}
