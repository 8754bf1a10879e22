import { Duration, Stack } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  Stats,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { FilterPattern, MetricFilter } from 'aws-cdk-lib/aws-logs';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../lambda/config';
import { bufferAgeAlarmSeconds } from '../lambda/settings';
import { FAILURE_REASONS } from '../lambda/domain/errors';
import { CONNECT_OPERATIONS, METRIC } from '../lambda/metric-names';
import { deadLetterSettleSeconds } from './backstops';

export interface GatewayMonitoringProps {
  /** Prefixes the alarm and dashboard names; also the `service` dimension the function's metrics carry. */
  readonly gatewayName: string;
  /** Its timeout bounds how long a dead letter waits for the sweeper. */
  readonly gatewayFunction: IFunction & { readonly timeout?: Duration };
  readonly api: RestApi;
  readonly deadLetterQueue: IQueue;
  /** The direct-invocation function: its throttles, timeouts and crashes are watched when given. @default no alarms of its own */
  readonly directFunction?: DirectFunction;
  /** The event door's buffer: its oldest message's age is watched when given. @default no buffer alarm */
  readonly buffer?: IQueue;
  /** Where alarms go. @default a topic this construct creates, encrypted with its own KMS key and TLS-only */
  readonly alarmTopic?: ITopic;
  /** Subscribed to the alarm topic when given (the address must confirm the subscription). @default none */
  readonly alarmEmail?: string;
  /** The oldest buffered request may wait this long before the buffer alarm fires. @default - the settings table's `bufferAgeAlarmSeconds` */
  readonly bufferAgeAlarmSeconds?: number;
  /** Scheduled transfers' schedule group and the queue Scheduler sets undelivered firings aside in. @default no schedule alarms */
  readonly schedules?: ScheduleDelivery;
}

/** What the schedule alarms watch: EventBridge Scheduler's metrics for the group, and its dead-letter queue. */
export interface ScheduleDelivery {
  readonly group: IScheduleGroup;
  readonly deadLetterQueue: IQueue;
}

/**
 * Failures an operator must look into. Throttles are left to ConnectThrottlesSustained (one cause, one page);
 * REQUEST_IN_PROGRESS is a duplicate arriving while its first copy runs, which at-least-once delivery does by design,
 * and TRANSFER_IN_PROGRESS a second caller for a contact already being transferred, which the contract refuses by design.
 */
const ALARMING_FAILURE_REASONS = FAILURE_REASONS.filter((reason) => reason !== 'THROTTLED' && reason !== 'REQUEST_IN_PROGRESS' && reason !== 'TRANSFER_IN_PROGRESS');

/** The direct-invocation function and the log group its crash lines are counted in. */
export type DirectFunction = IFunction & { readonly logGroup: ILogGroup };

/** Every alarm is evaluated over five-minute periods: short enough to page within minutes, long enough not to flap. */
const PERIOD = Duration.minutes(5);

/**
 * What Lambda itself writes to a function's log (text format) when an invocation ends without the handler's answer:
 * a timeout, or a runtime that exited (a crash, or out of memory). A handler that throws writes none of them, so the
 * direct function's rejections, which are errors by design, are not counted.
 */
export const INVOCATION_CRASH_LINES = ['Task timed out', 'Runtime exited', 'Process exited before completing request'] as const;

/**
 * Alarms that tell the team running the gateway what to do, a topic they notify, and one dashboard. Built with
 * aws-cdk-lib's own CloudWatch constructs: the gateway needs under a dozen alarms and one dashboard, which read plainly in
 * the template this way, and cdk-monitoring-constructs would add a dependency and its own naming for no gain.
 */
export class GatewayMonitoring extends Construct {
  readonly alarmTopic: ITopic;
  readonly alarms: readonly Alarm[];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: GatewayMonitoringProps) {
    super(scope, id);
    const { gatewayName } = props;
    this.alarmTopic = props.alarmTopic ?? this.encryptedTopic(gatewayName);
    if (props.alarmEmail !== undefined) this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));

    const { gatewayFunction, api, deadLetterQueue, buffer } = props;
    const gatewayMetric = (metricName: string, dimensions: Record<string, string> = {}): Metric =>
      new Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service: gatewayName, ...dimensions }, statistic: Stats.SUM, period: PERIOD });
    const failed = sumOf(
      'Transfers failed',
      ALARMING_FAILURE_REASONS.map((reason) => gatewayMetric(METRIC.failed, { ReasonCode: reason })),
    );
    const connectThrottles = sumOf(
      'Connect throttles',
      CONNECT_OPERATIONS.map((operation) => gatewayMetric(METRIC.connectThrottles, { Operation: operation })),
    );
    const alarm = (name: string, definition: AlarmDefinition): Alarm => {
      const created = new Alarm(this, name, {
        alarmName: `${gatewayName}-${name}`,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        ...definition,
      });
      created.addAlarmAction(new SnsAction(this.alarmTopic));
      created.addOkAction(new SnsAction(this.alarmTopic));
      return created;
    };

    // The dead-letter door keeps its queue read: a dead letter it cannot answer yet is in flight far more often than
    // visible, so both count. Every period of a span longer than the door's normal answer must hold one: a message
    // that stays (the age metric would not do: SQS leaves a message received more than three times out of it).
    const unansweredPeriods = Math.ceil(deadLetterSettleSeconds(gatewayFunction.timeout?.toSeconds() ?? 10) / PERIOD.toSeconds()) + 1;
    const alarms = [
      alarm('DeadLettersUnanswered', {
        metric: new MathExpression({
          label: 'Dead letters waiting or in flight',
          expression: 'visible + inFlight',
          usingMetrics: {
            visible: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: Stats.MAXIMUM }),
            inFlight: deadLetterQueue.metricApproximateNumberOfMessagesNotVisible({ period: PERIOD, statistic: Stats.MAXIMUM }),
          },
          period: PERIOD,
        }),
        threshold: 1,
        evaluationPeriods: unansweredPeriods,
        datapointsToAlarm: unansweredPeriods,
        alarmDescription:
          `A dead-lettered request has stayed in the dead-letter queue for ${unansweredPeriods * 5} minutes: the dead-letter door ` +
          'cannot answer it (it returns it to the queue every 5 minutes). Either its transfer intent is still PENDING after ' +
          'the sweeper ran (Connect unreachable, or an intent set aside beyond the 7-day ClientToken window, which the ' +
          'function logged as an alert), or its failure record could not be written (DynamoDB failing). Read it ' +
          '(docs/operations.md, "Dead letters"); every other dead letter already has its Contact Transfer Failed event.',
      }),
      alarm('TransfersFailing', {
        metric: failed,
        threshold: 1,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        alarmDescription:
          `Transfers failed (${METRIC.failed}: ${ALARMING_FAILURE_REASONS.join(', ')}) in two of the last three five-minute periods. ` +
          'Look up the function log lines with outcome "failed" for the reason: UPSTREAM_FAILURE means Connect fails or is ' +
          'unreachable, INTERNAL_ERROR that DynamoDB or the function failed. Throttling has its own alarm.',
      }),
      alarm('ConnectThrottlesSustained', {
        metric: connectThrottles,
        threshold: 1,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        alarmDescription:
          'Amazon Connect throttled the gateway in each of the last three five-minute periods, after the SDK\'s retries. ' +
          'The TransferContact quota is per account and Region and shared with every other caller. After each throttle ' +
          `the gateway lowers its shared rate and recovers it while no throttle follows; ${METRIC.pacedRate} (dashboard ` +
          '"Connect throttles and the rate settled on") shows the rate it settled on: the configured rate less that is ' +
          'what other callers use. Find who else calls it, or ask for a quota increase and raise the gateway\'s rate ' +
          'settings with it.',
      }),
      alarm('FunctionErrors', {
        metric: gatewayFunction.metricErrors({ period: PERIOD, statistic: Stats.SUM }),
        threshold: 1,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        alarmDescription:
          'The gateway function (API, event buffer, backstops) ended invocations with an error in two of the last three ' +
          'five-minute periods: an event none of its triggers sends, a crash or a timeout. Direct invocations, whose ' +
          'rejections are errors by design, run in a function of their own. Look at the function log lines with outcome ' +
          '"failed" or with no outcome line at all.',
      }),
      alarm('FunctionThrottled', {
        metric: gatewayFunction.metricThrottles({ period: PERIOD, statistic: Stats.SUM }),
        threshold: 1,
        evaluationPeriods: 1,
        alarmDescription:
          'Lambda throttled the gateway function: the account\'s concurrency is exhausted. HTTPS callers got 5xx; buffered ' +
          'requests wait and are retried. Check the account\'s concurrent executions and other functions\' usage.',
      }),
      alarm('Api5xx', {
        metric: api.metricServerError({ period: PERIOD, statistic: Stats.SUM }),
        threshold: 1,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        alarmDescription:
          'The HTTPS API answered 5xx in two of the last three five-minute periods. Callers retry with the same idempotency ' +
          'key safely; find the cause in the API access log (errorType, integrationStatus) and the function log.',
      }),
    ];
    if (props.directFunction) alarms.push(...this.directFunctionAlarms(gatewayName, props.directFunction, alarm));
    if (buffer) {
      const maxAge = props.bufferAgeAlarmSeconds ?? bufferAgeAlarmSeconds.default ?? 0;
      alarms.push(
        alarm('BufferedRequestsWaiting', {
          metric: buffer.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: Stats.MAXIMUM }),
          threshold: maxAge,
          evaluationPeriods: 1,
          alarmDescription:
            `The oldest buffered transfer request has waited ${maxAge} s or more. The event door drains at the configured ` +
            'rate; a growing age means a burst larger than the rate drains in that time, Connect keeps throttling, or the ' +
            'function keeps failing (see TransfersFailing and the function log).',
        }),
      );
    }
    if (props.schedules) alarms.push(scheduleAlarm(props.schedules, alarm));
    this.alarms = alarms;

    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: gatewayName });
    const byDimension = (metricName: string, dimension: string): MathExpression =>
      new MathExpression({
        expression: `SEARCH('{${METRICS_NAMESPACE},${dimension},service} MetricName="${metricName}" service="${gatewayName}"', 'Sum', ${PERIOD.toSeconds()})`,
        usingMetrics: {},
        label: metricName,
        period: PERIOD,
      });
    const widget = (title: string, left: IMetric[], right: IMetric[] = []): GraphWidget =>
      new GraphWidget({ title, left, right, width: 12, height: 6 });
    this.dashboard.addWidgets(
      widget('Transfers by outcome', [
        gatewayMetric(METRIC.succeeded),
        gatewayMetric(METRIC.replayed),
        byDimension(METRIC.rejected, 'ReasonCode'),
        byDimension(METRIC.failed, 'ReasonCode'),
      ]),
      widget(
        'Latency (ms)',
        ['p50', 'p90', 'p99'].map((statistic) => gatewayFunction.metricDuration({ period: PERIOD, statistic, label: `function ${statistic}` })),
        ['p50', 'p99'].map((statistic) => api.metricLatency({ period: PERIOD, statistic, label: `API ${statistic}` })),
      ),
      widget(
        'Connect throttles and the rate settled on',
        [byDimension(METRIC.connectThrottles, 'Operation')],
        // The lowest rate of the period: what the gateway left to other callers at the worst of it.
        [
          gatewayMetric(METRIC.pacedRate).with({ statistic: Stats.MINIMUM, label: 'TransferContact rate settled on (calls/s, lowest)' }),
          gatewayMetric(METRIC.pacedRate).with({ statistic: Stats.MAXIMUM, label: 'TransferContact rate (calls/s, highest)' }),
        ],
      ),
      widget(
        'Buffer and dead-letter queue',
        [
          ...(buffer ? [buffer.metricApproximateNumberOfMessagesVisible({ period: PERIOD, label: 'buffered' })] : []),
          deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, label: 'dead letters waiting' }),
          deadLetterQueue.metricApproximateNumberOfMessagesNotVisible({ period: PERIOD, label: 'dead letters being answered' }),
        ],
        buffer ? [buffer.metricApproximateAgeOfOldestMessage({ period: PERIOD, label: 'oldest buffered (s)' })] : [],
      ),
      ...(props.schedules ? [scheduleWidget(props.schedules)] : []),
      new AlarmStatusWidget({ title: 'Alarms', alarms, width: 24 }),
    );
  }

  /**
   * The direct-invocation function answers a refused request with an error, so its Errors metric counts callers'
   * mistakes: its alarms watch what an operator must act on instead, Lambda throttling it and invocations that ended
   * without an answer (counted from the log lines Lambda writes for them).
   */
  private directFunctionAlarms(gatewayName: string, directFunction: DirectFunction, alarm: (name: string, definition: AlarmDefinition) => Alarm): Alarm[] {
    const crashes = new MetricFilter(this, 'DirectFunctionCrashLines', {
      logGroup: directFunction.logGroup,
      filterPattern: FilterPattern.anyTerm(...INVOCATION_CRASH_LINES),
      metricNamespace: METRICS_NAMESPACE,
      // A filter's metric has no dimension to hold the gateway's name, so the name carries it.
      metricName: `DirectFunctionCrashes-${gatewayName}`,
      metricValue: '1',
    });
    return [
      alarm('DirectFunctionCrashes', {
        metric: crashes.metric({ period: PERIOD, statistic: Stats.SUM }),
        threshold: 1,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        alarmDescription:
          'The direct-invocation function timed out or its runtime exited (a crash, or out of memory) in two of the last ' +
          'three five-minute periods: its callers got no answer and retry with the same idempotency key safely. Search its ' +
          `log group for ${INVOCATION_CRASH_LINES.map((line) => `"${line}"`).join(', ')}. Rejected requests, which are errors of this function by design, are not counted.`,
      }),
      alarm('DirectFunctionThrottled', {
        metric: directFunction.metricThrottles({ period: PERIOD, statistic: Stats.SUM }),
        threshold: 1,
        evaluationPeriods: 1,
        alarmDescription:
          "Lambda throttled the direct-invocation function: the account's concurrency is exhausted, and its callers got " +
          "TooManyRequestsException. Check the account's concurrent executions and other functions' usage.",
      }),
    ];
  }

  /**
   * CloudWatch can publish to an encrypted topic only with a customer managed key whose policy lets it use the key,
   * and a topic with a policy of its own (enforceSSL writes one) must also allow CloudWatch to publish. Both are
   * limited to this gateway's alarms.
   */
  private encryptedTopic(gatewayName: string): Topic {
    const stack = Stack.of(this);
    const ownAlarms = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:${gatewayName}-*` },
    };
    const key = new Key(this, 'AlarmTopicKey', {
      description: `Encrypts the alarm topic of ${gatewayName}`,
      enableKeyRotation: true,
    });
    const cloudWatch = new ServicePrincipal('cloudwatch.amazonaws.com');
    key.addToResourcePolicy(
      new PolicyStatement({ principals: [cloudWatch], actions: ['kms:Decrypt', 'kms:GenerateDataKey*'], resources: ['*'], conditions: ownAlarms }),
    );
    const topic = new Topic(this, 'AlarmTopic', { masterKey: key, enforceSSL: true, displayName: `${gatewayName} alarms` });
    topic.addToResourcePolicy(
      new PolicyStatement({ principals: [cloudWatch], actions: ['sns:Publish'], resources: [topic.topicArn], conditions: ownAlarms }),
    );
    return topic;
  }
}

type AlarmDefinition = Pick<
  ConstructorParameters<typeof Alarm>[2],
  'metric' | 'threshold' | 'evaluationPeriods' | 'datapointsToAlarm' | 'alarmDescription'
>;

/** An alarm cannot SEARCH, so a metric published per dimension value is summed over the values the code can emit. */
function sumOf(label: string, metrics: readonly Metric[]): MathExpression {
  const usingMetrics = Object.fromEntries(metrics.map((metric, index) => [`m${index}`, metric]));
  return new MathExpression({ expression: `SUM([${Object.keys(usingMetrics).join(',')}])`, usingMetrics, label, period: PERIOD });
}

/**
 * A fired schedule that never reached the event buffer is a transfer that silently did not happen, so one is enough
 * to page. EventBridge Scheduler counts, per schedule group, a firing it gave up on after its retry policy: set aside in
 * the dead-letter queue, dropped, or lost because even the dead-letter queue refused it. The dead-letter queue's depth
 * keeps the alarm firing until an operator has dealt with what is in it. Target errors and throttles are retried by
 * Scheduler and show on the dashboard only.
 */
function scheduleAlarm({ group, deadLetterQueue }: ScheduleDelivery, alarm: (name: string, definition: AlarmDefinition) => Alarm): Alarm {
  const gaveUp = SCHEDULE_DELIVERY_FAILURES.map((metricName) => group.metric(metricName, { period: PERIOD, statistic: Stats.SUM }));
  const waiting = deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: Stats.MAXIMUM });
  return alarm('ScheduledTransfersUndelivered', {
    metric: sumOf('Fired schedules not delivered, or waiting in the schedule dead-letter queue', [...gaveUp, waiting]),
    threshold: 1,
    evaluationPeriods: 1,
    alarmDescription:
      'EventBridge Scheduler gave up delivering a fired scheduled transfer to the event buffer after its retries ' +
      `(${SCHEDULE_DELIVERY_FAILURES.join(', ')} for the schedule group), or such a firing still waits in the schedule ` +
      'dead-letter queue: that transfer did not run. Read the queue (docs/operations.md, "Undelivered schedules") for ' +
      'the request and the error, check the scheduler role and the event buffer, run the transfer again if it is still ' +
      'wanted, then delete the message.',
  });
}

/** EventBridge Scheduler's metrics (namespace AWS/Scheduler, dimension ScheduleGroup) for a firing it gave up on. */
const SCHEDULE_DELIVERY_FAILURES = ['InvocationsSentToDeadLetterCount', 'InvocationDroppedCount', 'InvocationsFailedToBeSentToDeadLetterCount'] as const;

function scheduleWidget({ group, deadLetterQueue }: ScheduleDelivery): GraphWidget {
  const options = { period: PERIOD, statistic: Stats.SUM };
  return new GraphWidget({
    title: 'Scheduled transfers: deliveries',
    left: [
      group.metricAttempts({ ...options, label: 'firings attempted' }),
      group.metricTargetErrors({ ...options, label: 'buffer refused (retried)' }),
      group.metricThrottled({ ...options, label: 'throttled by Scheduler (retried)' }),
      ...SCHEDULE_DELIVERY_FAILURES.map((metricName) => group.metric(metricName, options)),
    ],
    right: [deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, label: 'schedule dead letters' })],
    width: 12,
    height: 6,
  });
}
