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
  /** Connect's QueueInfo: the queue the contact waits in, and since when. */
  readonly queue?: { readonly id: string; readonly enqueuedAt?: Date };
  /** Connect's AgentInfo: the agent the contact is routed to; `connectedAt` once that agent accepted it. */
  readonly agent?: { readonly id: string; readonly connectedAt?: Date };
  /**
   * A paused task (PauseContact; LastPausedTimestamp after any LastResumedTimestamp). Connect takes a paused task out
   * of its queue, and agents may still end or transfer it, so it stays transferable but waits in no queue.
   */
  readonly pausedAt?: Date;
  /** A scheduled task whose ScheduledTimestamp is still ahead: its flow has not run, so it waits in no queue yet. */
  readonly scheduledFor?: Date;
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
