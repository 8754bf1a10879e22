import type { Context } from 'aws-lambda';
import type { TransferResult } from '../ports';
import type { Door, TransferDoorDependencies } from './door';
import { namedFailure, transferThrough } from './door';

/**
 * Direct invocation (contract section 3.3), for example a Step Functions task: the entry of its own function, which
 * callers are granted. The payload is the request, whatever it looks like: this function serves no other door, so a
 * payload shaped like an API Gateway or SQS event is a request with unknown members (rule 1), never that door's caller.
 * Who invoked is not in what Lambda hands a function, so the caller is recorded as `invoke`.
 */
export const directDoor: Door<unknown, TransferResult> = {
  origin: (_event, context: Context) => ({ door: 'invoke', caller: 'invoke', correlationId: context.awsRequestId }),
  input: (event) => event,
  succeeded: ({ result }) => ({ ContactId: result.ContactId, ContactArn: result.ContactArn }),
  failed: (error) => {
    throw namedFailure(error);
  },
};

export type DirectHandler = (event: unknown, context: Context) => Promise<TransferResult>;

export function directEntry(deps: TransferDoorDependencies): DirectHandler {
  return (event, context) => transferThrough(directDoor, deps, event, context);
}
