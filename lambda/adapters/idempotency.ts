import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { TransferError } from '../domain/errors';
import type { IdempotencyOutcome, IdempotencyPort, TransferResult, Unstored } from '../ports';
import { IDEMPOTENCY_TABLE } from '../tables';

interface IdempotencyInput {
  readonly idempotencyKey: string;
  readonly payloadHash: string;
}

/**
 * Where Powertools finds the key and the payload to validate: bare member names, the only JMESPath the function's
 * bundle evaluates (lib/gateway-bundle.ts, memberOnlyJmesPath).
 */
export const IDEMPOTENCY_JMESPATHS = {
  eventKeyJmesPath: 'idempotencyKey',
  payloadValidationJmesPath: 'payloadHash',
} as const satisfies Record<string, keyof IdempotencyInput>;

type StoredResult = TransferResult & { readonly replayed?: true };

/**
 * Powertools idempotency around the one function whose result must be stored: the transfer. A thrown
 * rejection releases the key, a returned result is kept, and a key reused with another payload fails validation.
 */
export class PowertoolsIdempotency implements IdempotencyPort {
  private readonly config: IdempotencyConfig;
  private readonly runOnce: (input: IdempotencyInput, work: () => Promise<TransferResult>) => Promise<StoredResult>;

  constructor(client: DynamoDBClient, tableName: string, expiresAfterSeconds: number) {
    this.config = new IdempotencyConfig({
      ...IDEMPOTENCY_JMESPATHS,
      expiresAfterSeconds,
      // Called only when a stored record answers the request: the one place a replay can be recognised.
      responseHook: (response) =>
        typeof response === 'object' && response !== null && !Array.isArray(response) ? { ...response, replayed: true } : response,
    });
    this.runOnce = makeIdempotent(async (_input: IdempotencyInput, work: () => Promise<TransferResult>) => work(), {
      persistenceStore: new DynamoDBPersistenceLayer({
        tableName,
        awsSdkV3Client: client,
        keyAttr: IDEMPOTENCY_TABLE.partitionKey,
        expiryAttr: IDEMPOTENCY_TABLE.timeToLiveAttribute,
      }),
      config: this.config,
      keyPrefix: 'contact-transfer',
    });
  }

  /** An in-progress record left by a timed-out invocation expires with it, so a retry can run. */
  registerLambdaContext(context: Context): void {
    this.config.registerLambdaContext(context);
  }

  async once<Left = never>(key: IdempotencyInput, work: () => Promise<TransferResult | Unstored<Left>>): Promise<IdempotencyOutcome | Unstored<Left>> {
    let accepted: TransferResult | undefined;
    let left: Unstored<Left> | undefined;
    try {
      const { replayed, ...result } = await this.runOnce({ idempotencyKey: key.idempotencyKey, payloadHash: key.payloadHash }, async () => {
        const done = await work();
        if (isUnstored(done)) {
          // Powertools stores what the function returns and frees the key when it throws.
          left = done;
          throw new LeftUnstored();
        }
        return (accepted = done);
      });
      return { result, replayed: replayed === true };
    } catch (error) {
      if (left) return left;
      if (error instanceof TransferError) throw error;
      // Connect accepted: the caller must hear success; the use case says what a retry will find.
      if (accepted) return { result: accepted, replayed: false, storeFailure: error };
      throw translateIdempotencyError(error);
    }
  }
}

const isUnstored = <Left>(done: TransferResult | Unstored<Left>): done is Unstored<Left> => 'left' in done;

/** Leaves Powertools' idempotent function without a result to store. */
class LeftUnstored extends Error {
  constructor() {
    super('Left the idempotency lock without a result to store');
    this.name = 'LeftUnstored';
  }
}

function translateIdempotencyError(error: unknown): TransferError {
  const name = error instanceof Error ? error.name : '';
  if (name === 'IdempotencyAlreadyInProgressError') return TransferError.of('REQUEST_IN_PROGRESS', { cause: error });
  if (name === 'IdempotencyValidationError') return TransferError.of('CLIENT_TOKEN_REUSED', { cause: error });
  // Fail closed: the store could not be reached, so nothing was transferred.
  return TransferError.of('INTERNAL_ERROR', { cause: error });
}
