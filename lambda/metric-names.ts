/**
 * The names of the metrics the function publishes and of the Connect operations they are broken down by. Plain
 * data, so the stack's alarms and dashboard name exactly what the function emits without loading Powertools.
 */
export const METRIC = {
  succeeded: 'TransfersSucceeded',
  replayed: 'TransfersReplayed',
  rejected: 'TransfersRejected',
  failed: 'TransfersFailed',
  connectThrottles: 'ConnectThrottles',
  /**
   * The shared TransferContact rate each pacing slot was reserved at, in calls per second: the configured rate, or
   * less while the gateway leaves room to another caller that made Connect throttle it.
   */
  pacedRate: 'PacedTransferRate',
} as const;

/** Every Connect operation the gateway calls: the `Operation` dimension of ConnectThrottles. */
export const CONNECT_OPERATIONS = ['DescribeContact', 'DescribeContactFlow', 'DescribeQueue', 'DescribeUser', 'TransferContact'] as const;
export type ConnectOperation = (typeof CONNECT_OPERATIONS)[number];
