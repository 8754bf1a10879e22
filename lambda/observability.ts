import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, SERVICE_NAME } from './config';
import type { TransferError } from './domain/errors';
import { METRIC } from './metric-names';
import type { ConnectOperation } from './metric-names';
import type { Origin } from './ports';
import type { TransferOutcome } from './usecase/transfer-contact';

/**
 * One Logger and one Metrics for the function; POWERTOOLS_* variables tune them. The stack names each gateway's
 * service, so two gateways in one account and Region never share metrics (nor each other's alarms).
 */
const serviceName = process.env.POWERTOOLS_SERVICE_NAME || SERVICE_NAME;
export const logger = new Logger({ serviceName });
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName });

export { METRIC };

export interface OutcomeReport {
  readonly origin: Origin;
  readonly contactId?: string;
  readonly startedAt: number;
  readonly outcome?: TransferOutcome;
  readonly error?: TransferError;
}

/**
 * The one structured line per invocation an operator searches for, plus its metric. Never the body or the
 * token: ids, outcome and reason are enough to follow a contact.
 */
export function reportOutcome({ origin, contactId, startedAt, outcome, error }: OutcomeReport): void {
  const line = {
    contactId,
    treeId: outcome?.treeId,
    trigger: origin.door,
    durationMs: Date.now() - startedAt,
  };
  if (outcome) {
    const replayed = outcome.replayed;
    logger.info('transfer', { ...line, outcome: replayed ? 'replayed' : 'transferred', newContactId: outcome.result.ContactId });
    metrics.addMetric(replayed ? METRIC.replayed : METRIC.succeeded, MetricUnit.Count, 1);
    return;
  }
  if (!error) return;
  const failed = error.retryable;
  const entry = { ...line, outcome: failed ? 'failed' : 'rejected', reason: error.reason, status: error.status };
  if (failed) logger.error('transfer', { ...entry, error: error.cause ?? error });
  else logger.info('transfer', entry);
  metrics.singleMetric().addDimension('ReasonCode', error.reason).addMetric(failed ? METRIC.failed : METRIC.rejected, MetricUnit.Count, 1);
}

export function reportConnectThrottle(operation: ConnectOperation): void {
  metrics.singleMetric().addDimension('Operation', operation).addMetric(METRIC.connectThrottles, MetricUnit.Count, 1);
}

/** The shared rate a pacing slot was reserved at: published with the invocation's other metrics. */
export function reportPacedRate(ratePerSecond: number): void {
  metrics.addMetric(METRIC.pacedRate, MetricUnit.CountPerSecond, ratePerSecond);
}
