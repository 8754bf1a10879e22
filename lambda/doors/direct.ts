import type { Context } from 'aws-lambda';
import type { TransferResult } from '../ports';
import type { Door } from './door';
import { namedFailure } from './door';

/** Direct invocation, for example a Step Functions task: the payload is the request. */
export const directDoor: Door<unknown, TransferResult> = {
  origin: (_event, context: Context) => ({ door: 'invoke', caller: 'invoke', correlationId: context.awsRequestId }),
  input: (event) => event,
  succeeded: ({ result }) => ({ ContactId: result.ContactId, ContactArn: result.ContactArn }),
  failed: (error) => {
    throw namedFailure(error);
  },
};
