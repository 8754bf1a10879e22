/**
 * A DynamoDB write whose condition did not hold. Told by the error's name, which the SDK sets from the service's
 * error type: importing the exception class itself would bundle the client's error schemas for one instanceof.
 */
export function isConditionalCheckFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}
