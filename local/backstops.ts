import type { Context } from 'aws-lambda';
import { DEAD_LETTER_DOOR } from '../lib/backstops';
import { EventSourceMappingModel } from './buffered-delivery';
import type { BatchHandler, QueueModel } from './buffered-delivery';
import { lambdaContext, scheduledEvent } from './lambda-events';

/**
 * The stack's two backstops (lib/backstops.ts) run locally with the same models as the event door: an event source
 * mapping on the dead-letter queue, and a timer standing in for the schedule rule, invoking the handler with the
 * scheduled event EventBridge sends.
 */
export interface BackstopsModel {
  readonly deadLetterMapping: EventSourceMappingModel;
  /** One sweep now, as the schedule rule would start it; resolves to the function's answer. */
  sweep(): Promise<unknown>;
  stop(): Promise<void>;
}

export interface BackstopsOptions {
  readonly deadLetters: QueueModel;
  readonly handler: (event: unknown, context: Context) => Promise<unknown>;
  readonly sweepRuleArn: string;
  readonly account: string;
  /** The schedule's interval; undefined runs no timer (tests call `sweep`). */
  readonly sweepEveryMs?: number;
  readonly functionTimeoutMs: number;
  readonly onSwept?: (answer: unknown) => void;
}

export function startBackstops(options: BackstopsOptions): BackstopsModel {
  const deadLetterMapping = new EventSourceMappingModel({
    queue: options.deadLetters,
    handler: options.handler as BatchHandler,
    batchSize: DEAD_LETTER_DOOR.batchSize,
    maxConcurrency: DEAD_LETTER_DOOR.maxConcurrency,
    functionTimeoutMs: options.functionTimeoutMs,
  });
  deadLetterMapping.start();
  const sweep = (): Promise<unknown> => options.handler(scheduledEvent(options.sweepRuleArn, options.account), lambdaContext(options.functionTimeoutMs));
  const timer =
    options.sweepEveryMs === undefined
      ? undefined
      : setInterval(() => {
          sweep().then(options.onSwept, () => undefined);
        }, options.sweepEveryMs);
  return {
    deadLetterMapping,
    sweep,
    stop: async () => {
      clearInterval(timer);
      await deadLetterMapping.stop();
    },
  };
}
