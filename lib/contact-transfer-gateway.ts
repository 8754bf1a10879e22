import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { AssetHashType, DockerImage, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  JsonSchemaType,
  JsonSchemaVersion,
  LambdaIntegration,
  LogGroupLogDestination,
  ResponseType,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import type { EndpointConfiguration, JsonSchema } from 'aws-cdk-lib/aws-apigateway';
import { AttributeType, BillingMode, StreamViewType, Table } from 'aws-cdk-lib/aws-dynamodb';
import type { TableProps } from 'aws-cdk-lib/aws-dynamodb';
import { Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { AccountPrincipal, AnyPrincipal, Effect, PolicyDocument, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { InterfaceVpcEndpoint } from 'aws-cdk-lib/aws-ec2';
import { Architecture, Code, EventSourceMapping, Function as LambdaFn, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { CfnPipe } from 'aws-cdk-lib/aws-pipes';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import * as z from 'zod/mini';
import { ENV, loadConfig, METRICS_NAMESPACE } from '../lambda/config';
import type { ConnectInstance } from '../lambda/domain/arn';
import { TRANSFER_DETAIL_TYPE } from '../lambda/doors/eventbridge';
import { HISTORY_RESOURCE } from '../lambda/doors/history';
import { transferRequestSchema } from '../lambda/domain/request';
import { IDEMPOTENCY_TABLE, LEDGER_TABLE } from '../lambda/tables';
import type { TableDefinition } from '../lambda/tables';
import type { GatewaySettings } from './context';
import { EVENT_BUFFER } from './event-buffer';
import { GatewayMonitoring } from './gateway-monitoring';
import { TRANSFER_EVENT_PIPES } from './transfer-events';
import { DEAD_LETTER_DOOR } from './backstops';
import { TransferBackstops, undeliveredTransferEventsQueue } from './transfer-backstops';

const PROJECT_ROOT = path.join(__dirname, '..');

/**
 * The function's code: `lib/gateway-bundle.ts` run by esbuild on this machine (never Docker), in a child process
 * because CDK's bundling hook is synchronous and the bundle needs an esbuild plugin. Hashed by output, so a change
 * anywhere the bundle reaches (lambda/, a dependency) is a new asset and nothing else is.
 */
function gatewayCode(): Code {
  return Code.fromAsset(path.join(PROJECT_ROOT, 'lambda'), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Required by the type; unused, since local bundling either succeeds or throws.
      image: DockerImage.fromRegistry('public.ecr.aws/sam/build-nodejs24.x'),
      local: {
        tryBundle(outputDir) {
          const bundler = spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'lib', 'gateway-bundle.ts'), outputDir], {
            cwd: PROJECT_ROOT,
            stdio: ['ignore', 'inherit', 'inherit'],
          });
          if (bundler.status !== 0) throw new Error(`Bundling the gateway function failed (esbuild's messages are above); exit ${String(bundler.status ?? bundler.signal)}.`);
          return true;
        },
      },
    },
  });
}

export const TRANSFER_PATH = ['contact', 'transfer'] as const;
/** `contact/transfers/{ContactId}`, as the function matches it. */
const HISTORY_PATH = HISTORY_RESOURCE.split('/').filter((part) => part !== '');

/** Chosen by `npm run bench` from latency and cost by memory size (README, Performance). */
export const DEFAULT_MEMORY_SIZE_MB = 512;

export interface ContactTransferGatewayProps extends GatewaySettings {
  /** @default 512 (DEFAULT_MEMORY_SIZE_MB, chosen by `npm run bench`) */
  readonly memorySize?: number;
  /** Must stay below API Gateway's 29 s integration timeout. @default 10 seconds */
  readonly timeout?: Duration;
  /** API Gateway stage name. @default 'prod' */
  readonly stageName?: string;
}

/** The ARNs of the configured instance that the function's Connect actions need (docs/connect-api.md, "ARNs and IAM"). */
export function connectResourceArns(instance: ConnectInstance) {
  const base = `arn:${instance.partition}:connect:${instance.region}:${instance.account}:instance/${instance.id}`;
  return {
    instance: base,
    contacts: `${base}/contact/*`,
    flows: `${base}/contact-flow/*`,
    queues: `${base}/queue/*`,
    // Connect names users "agent" in ARNs.
    users: `${base}/agent/*`,
  } as const;
}

/**
 * The contact transfer gateway: one function behind an IAM-authorized REST API and an EventBridge rule, its
 * idempotency table and transfer ledger, and a dead-letter queue. Bound to exactly one Amazon Connect instance.
 */
export class ContactTransferGateway extends Construct {
  readonly api: RestApi;
  /** Full URL of `POST /contact/transfer`. */
  readonly transferUrl: string;
  readonly gatewayFunction: LambdaFn;
  readonly role: Role;
  readonly idempotencyTable: Table;
  readonly ledgerTable: Table;
  /** Receives EventBridge delivery failures and buffered events that still failed after an hour of retries. */
  readonly deadLetterQueue: Queue;
  /** The event door's durable buffer between the rule and the function. */
  readonly eventBuffer: Queue;
  readonly eventBufferMapping: EventSourceMapping;
  readonly transferRule: Rule;
  /** Alarms, the topic they notify and the dashboard. */
  readonly monitoring: GatewayMonitoring;
  /**
   * `<stack>-<construct id>`: unique per gateway in an account and Region. Names the API, the alarms and the dashboard,
   * and is the `service` dimension of the function's metrics.
   */
  readonly gatewayName: string;
  /** `Contact Transferred` and `Contact Transfer Failed`, from the ledger's stream to the default bus. */
  readonly eventPipes: CfnPipe[];
  /** What the pipes could not publish after their retries. */
  readonly undeliveredTransferEvents: Queue;
  /** The dead-letter door and the sweeper (lib/transfer-backstops.ts). */
  readonly backstops: TransferBackstops;

  constructor(scope: Construct, id: string, props: ContactTransferGatewayProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.gatewayName = `${stack.stackName}-${id}`;
    const instance = props.connectInstance;
    if (!Token.isUnresolved(stack.account) && stack.account !== instance.account) {
      throw new Error(
        `The Connect instance ${instance.arn} is in account ${instance.account} but the stack deploys to ${stack.account}: ` +
          'the gateway calls Connect with its own role, so it must be deployed to the instance account.',
      );
    }
    const timeout = props.timeout ?? Duration.seconds(10);
    const stageName = props.stageName ?? 'prod';
    if (timeout.toSeconds() >= 29) throw new Error('timeout must stay below API Gateway\'s 29 s integration timeout.');

    // Two tables because their lifecycles differ. Idempotency records are ephemeral (an hour or so, recreated by any
    // retry), so that table is destroyed with the stack and has no backups. The ledger is the durable audit record of
    // every transfer (contract section 7): point-in-time recovery, deletion protection, and it outlives the stack.
    this.idempotencyTable = new Table(this, 'IdempotencyTable', {
      ...tableKeys(IDEMPOTENCY_TABLE),
      billingMode: BillingMode.PAY_PER_REQUEST,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.idempotencyTable).acknowledge({
      id: 'AwsSolutions-DDB3',
      reason:
        'Idempotency records expire after about an hour and are recreated by any retry. Restoring this table to an earlier ' +
        'point would resurrect released or expired keys and could replay stale results; the durable record is the ledger table, which has PITR.',
    });
    this.ledgerTable = new Table(this, 'LedgerTable', {
      ...tableKeys(LEDGER_TABLE),
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      // The source of the transfer events (contract section 9): a record that is in the table is an event that will be
      // published, whatever happens to the function after writing it. Old images let the pipe see PENDING -> TRANSFERRED.
      stream: StreamViewType.NEW_AND_OLD_IMAGES,
    });

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // The longest SQS allows: time for an operator to look at a failed transfer and redrive or discard it.
      retentionPeriod: Duration.days(14),
      visibilityTimeout: Duration.seconds(DEAD_LETTER_DOOR.visibilityTimeoutSeconds),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter queue: the rule target\'s delivery failures and the buffer\'s redrive send their ' +
        'messages here. A dead-letter queue for it would add nothing; messages are kept 14 days for an operator.',
    });
    this.eventBuffer = new Queue(this, 'EventBuffer', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(EVENT_BUFFER.visibilityTimeoutSeconds),
      retentionPeriod: Duration.days(EVENT_BUFFER.retentionDays),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: EVENT_BUFFER.maxReceiveCount },
    });

    const functionLogs = new LogGroup(this, 'FunctionLogs', {
      retention: props.logRetentionDays as RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // A role of our own instead of the one Lambda would create, so AWSLambdaBasicExecutionRole (logs:* on every log
    // group) is never attached: the function may write to its own log group and call exactly what its code calls.
    this.role = new Role(this, 'FunctionRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Contact transfer gateway for ${instance.arn}`,
    });
    const arns = connectResourceArns(instance);
    const grants: PolicyStatement[] = [
      // The Service Authorization Reference (list_amazonconnect.html) lists exactly three resource types for
      // connect:TransferContact, all required: instance*, contact*, contact-flow* (the same in the iam-dataset generated
      // from it, iann0036/iam-dataset aws/iam_definition.json). Queue and user (agent) are not among them, so IAM
      // never evaluates their ARNs for this action and a grant on them would add nothing.
      statement('ConnectTransferContact', ['connect:TransferContact'], [arns.instance, arns.contacts, arns.flows]),
      statement('ConnectDescribeContact', ['connect:DescribeContact'], [arns.contacts]),
      statement('ConnectDescribeContactFlow', ['connect:DescribeContactFlow'], [arns.flows]),
      statement('ConnectDescribeQueue', ['connect:DescribeQueue'], [arns.queues]),
      statement('ConnectDescribeUser', ['connect:DescribeUser'], [arns.users]),
      statement(
        'IdempotencyRecords',
        ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        [this.idempotencyTable.tableArn],
      ),
      // Append-only: no action that deletes (BatchWriteItem can). The ledger writes with TransactWriteItems, which IAM
      // authorises per contained action: Put and Update, each with a condition that refuses to overwrite. GetItem is
      // the history's tree lookup. The event door's failure records are conditional PutItems too.
      statement(
        'TransferLedger',
        ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        [this.ledgerTable.tableArn],
      ),
      statement('OwnLogGroup', ['logs:CreateLogStream', 'logs:PutLogEvents'], [functionLogs.logGroupArn]),
      // The event source mapping polls with the function's role: exactly the actions the Lambda developer guide lists.
      statement('EventBuffer', ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], [this.eventBuffer.queueArn]),
    ];
    grants.forEach((grant) => this.role.addToPolicy(grant));
    for (const resource of [arns.contacts, arns.flows, arns.queues, arns.users]) {
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${resource}]`,
        reason:
          'Contact, flow, queue and user ids arrive with each request, so the resource is every one of that kind inside ' +
          'the one configured Connect instance: the narrowest ARN Connect authorizes these actions on. The instance id is fixed.',
      });
    }

    const environment: Record<string, string> = {
      [ENV.instanceArn]: instance.arn,
      [ENV.allowedChannels]: props.allowedChannels.join(','),
      [ENV.maxTransfers]: String(props.maxTransfers),
      [ENV.idempotencyTable]: this.idempotencyTable.tableName,
      [ENV.ledgerTable]: this.ledgerTable.tableName,
      [ENV.metadataCacheTtlSeconds]: String(props.metadataCacheTtlSeconds),
      [ENV.idempotencyTtlSeconds]: String(props.idempotencyTtlSeconds),
      [ENV.ledgerRetentionDays]: String(props.ledgerRetentionDays),
      // What only this stack's doors put into an event; the REST API's id is added once the API exists, below.
      [ENV.stackAccount]: instance.account,
      [ENV.apiStage]: stageName,
      [ENV.eventSources]: props.eventSources.join(','),
      [ENV.transferRatePerSecond]: String(props.transferRatePerSecond),
      [ENV.transferBurst]: String(props.transferBurst),
      [ENV.eventBufferQueueArn]: this.eventBuffer.queueArn,
      [ENV.eventMaxReceives]: String(EVENT_BUFFER.maxReceiveCount),
      POWERTOOLS_SERVICE_NAME: this.gatewayName,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      POWERTOOLS_LOG_LEVEL: props.logLevel,
    };
    // The function's own configuration check, run at synth: a value it would refuse at cold start fails here instead.
    // The queue ARN is a token until deploy; a placeholder of the same shape stands in for the check.
    loadConfig({ ...environment, [ENV.eventBufferQueueArn]: `arn:aws:sqs:${instance.region}:${instance.account}:event-buffer` });

    this.gatewayFunction = new LambdaFn(this, 'Function', {
      description: `Contact transfer gateway for ${instance.arn}`,
      code: gatewayCode(),
      handler: 'index.handler',
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? DEFAULT_MEMORY_SIZE_MB,
      timeout,
      role: this.role,
      logGroup: functionLogs,
      ...(props.tracing && { tracing: Tracing.ACTIVE }),
      // No NODE_OPTIONS=--enable-source-maps: Node then reads the bundle's source map at every cold start and maps
      // every stack trace it formats, which `npm run bench` measures in the cold start and the first failing request
      // (README, Performance). The map ships with the bundle; set the option on the function to debug with it.
      environment,
    });

    // The event door (contract section 3.2): the rule delivers into the buffer, which only this rule may send to; the
    // function drains it through the event source mapping with partial batch responses. The target's own dead-letter
    // queue catches what EventBridge could not deliver to the buffer at all.
    this.transferRule = new Rule(this, 'TransferRule', {
      description: 'TransferContact requests published to the default event bus (contract section 3.2)',
      eventPattern: { detailType: [TRANSFER_DETAIL_TYPE], source: [...props.eventSources] },
      targets: [new SqsQueue(this.eventBuffer, { deadLetterQueue: this.deadLetterQueue, retryAttempts: 4, maxEventAge: Duration.hours(1) })],
    });
    this.eventBufferMapping = new EventSourceMapping(this, 'EventBufferMapping', {
      target: this.gatewayFunction,
      eventSourceArn: this.eventBuffer.queueArn,
      batchSize: EVENT_BUFFER.batchSize,
      maxConcurrency: EVENT_BUFFER.maxConcurrency,
      reportBatchItemFailures: true,
    });
    // The mapping polls with the role: the policy must exist before the mapping is created.
    this.eventBufferMapping.node.addDependency(this.role);

    this.undeliveredTransferEvents = undeliveredTransferEventsQueue(this);
    this.eventPipes = this.transferEventPipes(props);
    this.api = this.restApi(props, stageName);
    // The function's configuration refers to the API (Ref RestApi); the API's method refers to the function. No cycle:
    // the RestApi resource itself depends on nothing of the function's, and the deployment waits for the method.
    this.gatewayFunction.addEnvironment(ENV.apiId, this.api.restApiId);
    this.transferUrl = this.api.urlForPath(`/${TRANSFER_PATH.join('/')}`);

    if (props.tracing) {
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'Active tracing (opt-in): xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions.',
      });
    }
    this.monitoring = new GatewayMonitoring(this, 'Monitoring', {
      gatewayName: this.gatewayName,
      gatewayFunction: this.gatewayFunction,
      api: this.api,
      deadLetterQueue: this.deadLetterQueue,
      buffer: this.eventBuffer,
      ...(props.alarmTopicArn !== undefined && { alarmTopic: Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn) }),
      ...(props.alarmEmail !== undefined && { alarmEmail: props.alarmEmail }),
      bufferAgeAlarmSeconds: props.bufferAgeAlarmSeconds,
    });
    this.backstops = new TransferBackstops(this, 'Backstops', {
      gatewayName: this.gatewayName,
      gatewayFunction: this.gatewayFunction,
      role: this.role,
      ledgerTable: this.ledgerTable,
      deadLetterQueue: this.deadLetterQueue,
      undeliveredTransferEvents: this.undeliveredTransferEvents,
      alarmTopic: this.monitoring.alarmTopic,
    });
  }

  /** Regional by default; private, bound to the given interface endpoints, when there are any. */
  private endpointConfiguration(vpcEndpointIds: readonly string[]): EndpointConfiguration {
    if (vpcEndpointIds.length === 0) return { types: [EndpointType.REGIONAL] };
    return {
      types: [EndpointType.PRIVATE],
      vpcEndpoints: vpcEndpointIds.map((vpcEndpointId) =>
        InterfaceVpcEndpoint.fromInterfaceVpcEndpointAttributes(this, `ApiEndpoint-${vpcEndpointId}`, { vpcEndpointId, port: 443 }),
      ),
    };
  }

  /**
   * DynamoDB Streams on the ledger and one EventBridge Pipe per event type into the default bus. Chosen over publishing
   * from the function: the event follows from the durable record (the function may die right after writing it), the
   * request path pays nothing, and the bundle needs no EventBridge client. Each pipe reads the stream (two readers per
   * shard is what DynamoDB Streams allows) and retries a record until it is published or the stream drops it (24 h).
   */
  private transferEventPipes(props: ContactTransferGatewayProps): CfnPipe[] {
    const stack = Stack.of(this);
    const streamArn = this.ledgerTable.tableStreamArn;
    if (streamArn === undefined) throw new Error('The ledger table has no stream.');
    const defaultBus = stack.formatArn({ service: 'events', resource: 'event-bus', resourceName: 'default' });
    const role = new Role(this, 'EventPipesRole', {
      assumedBy: new ServicePrincipal('pipes.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
      description: 'Publishes the contact transfer gateway\'s transfer events from the ledger stream',
    });
    role.addToPolicy(statement('ReadLedgerStream', ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'], [streamArn]));
    // EventBridge Pipes lists the table's streams to find this one; ListStreams has no resource-level permission.
    role.addToPolicy(statement('FindLedgerStream', ['dynamodb:ListStreams'], ['*']));
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'dynamodb:ListStreams supports no resource-level permission; EventBridge Pipes needs it for a DynamoDB stream source. It reveals stream ARNs only.',
    });
    // An event a pipe cannot deliver after its retries goes to the dead-letter queue (and so to its alarm) instead of
    // holding up the events behind it on the stream for the stream's 24 hours.
    role.addToPolicy(statement('UndeliveredTransferEvents', ['sqs:SendMessage'], [this.undeliveredTransferEvents.queueArn]));
    role.addToPolicy(
      new PolicyStatement({
        sid: 'PublishTransferEvents',
        effect: Effect.ALLOW,
        actions: ['events:PutEvents'],
        resources: [defaultBus],
        // The pipes can publish nothing but the gateway's own source.
        conditions: { StringEquals: { 'events:source': props.transferEventSource } },
      }),
    );
    return TRANSFER_EVENT_PIPES.map((pipe) => {
      const resource = new CfnPipe(this, `${pipe.detailType.replace(/\s+/g, '')}Pipe`, {
        description: `${pipe.detailType} events (contract section 9) from the transfer ledger`,
        roleArn: role.roleArn,
        source: streamArn,
        sourceParameters: {
          dynamoDbStreamParameters: {
            startingPosition: 'TRIM_HORIZON',
            batchSize: 10,
            // A batch that fails is split until the one bad record is found, retried a few times, then set aside.
            onPartialBatchItemFailure: 'AUTOMATIC_BISECT',
            maximumRetryAttempts: 10,
            deadLetterConfig: { arn: this.undeliveredTransferEvents.queueArn },
          },
          filterCriteria: { filters: pipe.filters.map((pattern) => ({ pattern: JSON.stringify(pattern) })) },
        },
        target: defaultBus,
        targetParameters: {
          inputTemplate: pipe.inputTemplate,
          eventBridgeEventBusParameters: { detailType: pipe.detailType, source: props.transferEventSource },
        },
      });
      // The pipe validates its role when it is created.
      resource.node.addDependency(role);
      return resource;
    });
  }

  private restApi(props: ContactTransferGatewayProps, stageName: string): RestApi {
    const stack = Stack.of(this);
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', {
      retention: props.logRetentionDays as RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // One ARN per method, so a caller's identity policy can allow reading the history without allowing transfers.
    const methodResources = [`execute-api:/*/POST/${TRANSFER_PATH.join('/')}`, `execute-api:/*/GET/${HISTORY_PATH.slice(0, -1).join('/')}/*`];
    const statements = [
      // The deploying account, and any listed ones, delegate to their own IAM: a caller also needs an identity policy
      // allowing execute-api:Invoke. Principals of any other account are refused by this policy.
      new PolicyStatement({
        sid: 'AllowedAccounts',
        effect: Effect.ALLOW,
        principals: [stack.account, ...props.allowedAccounts].map((account) => new AccountPrincipal(account)),
        actions: ['execute-api:Invoke'],
        resources: methodResources,
      }),
    ];
    if (props.vpcEndpointIds.length > 0) {
      // A private API is reachable only through interface endpoints; this keeps it to the listed ones.
      statements.push(
        new PolicyStatement({
          sid: 'OnlyThroughListedVpcEndpoints',
          effect: Effect.DENY,
          principals: [new AnyPrincipal()],
          actions: ['execute-api:Invoke'],
          resources: ['execute-api:/*'],
          conditions: { StringNotEquals: { 'aws:SourceVpce': [...props.vpcEndpointIds] } },
        }),
      );
    }
    if (props.allowedOrganizationId !== undefined) {
      statements.push(
        new PolicyStatement({
          sid: 'AllowedOrganization',
          effect: Effect.ALLOW,
          principals: [new AnyPrincipal()],
          actions: ['execute-api:Invoke'],
          resources: methodResources,
          conditions: { StringEquals: { 'aws:PrincipalOrgID': props.allowedOrganizationId } },
        }),
      );
    }

    const api = new RestApi(this, 'Api', {
      restApiName: this.gatewayName,
      description: `Contact transfer gateway for ${props.connectInstance.arn}`,
      endpointConfiguration: this.endpointConfiguration(props.vpcEndpointIds),
      // The account-wide API Gateway logging role is a singleton that a reusable construct must not own.
      cloudWatchRole: false,
      policy: new PolicyDocument({ statements }),
      defaultMethodOptions: { authorizationType: AuthorizationType.IAM },
      deployOptions: {
        stageName,
        throttlingRateLimit: props.throttlingRateLimit,
        throttlingBurstLimit: props.throttlingBurstLimit,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: ACCESS_LOG_FORMAT,
        tracingEnabled: props.tracing,
      },
    });
    // The stack declares its own outputs; the default one would be duplicated in every embedding app.
    api.node.tryRemoveChild('Endpoint');

    const model = api.addModel('TransferContactRequest', {
      contentType: 'application/json',
      modelName: 'TransferContactRequest',
      description: 'The request of contract section 2',
      schema: transferRequestModel(),
    });
    const validator = api.addRequestValidator('BodyValidator', {
      requestValidatorName: 'transfer-request-body',
      validateRequestBody: true,
      // The history's query parameters are optional; declared parameters marked required are checked at the edge.
      validateRequestParameters: true,
    });
    const resource = TRANSFER_PATH.reduce((parent, part) => parent.addResource(part), api.root);
    const method = resource.addMethod('POST', new LambdaIntegration(this.gatewayFunction, { proxy: true, allowTestInvoke: false }), {
      authorizationType: AuthorizationType.IAM,
      requestValidator: validator,
      requestModels: { 'application/json': model },
    });
    Validations.of(method).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'Callers are internal services and workflows, not end users: every method requires a SigV4 signature (AWS_IAM) ' +
        'from a principal the resource policy and the caller\'s identity policy both allow. There is no user pool to authorize against.',
    });

    const historyResource = HISTORY_PATH.reduce((parent, part) => parent.getResource(part) ?? parent.addResource(part), api.root);
    const historyMethod = historyResource.addMethod('GET', new LambdaIntegration(this.gatewayFunction, { proxy: true, allowTestInvoke: false }), {
      authorizationType: AuthorizationType.IAM,
      requestValidator: validator,
      requestParameters: { 'method.request.querystring.MaxResults': false, 'method.request.querystring.NextToken': false },
    });
    Validations.of(historyMethod).acknowledge({
      id: 'AwsSolutions-COG4',
      reason: 'The history is read by the same internal services as the transfer method, with the same SigV4 (AWS_IAM) authorisation; there is no user pool.',
    });

    for (const response of gatewayResponses(props)) {
      api.addGatewayResponse(response.type.responseType, {
        type: response.type,
        ...(response.status !== undefined && { statusCode: String(response.status) }),
        responseHeaders: { 'x-amzn-ErrorType': `'${response.errorType}'` },
        templates: {
          'application/json': `{"Type":"${response.errorType}","Reason":${response.reason},"Message":${response.message}}`,
        },
      });
    }

    const stage = api.deploymentStage;
    Validations.of(stage).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'Every method requires SigV4 (AWS_IAM) and the resource policy admits only configured accounts, so unsigned traffic ' +
        'is refused before anything runs; the stage is throttled to Connect\'s quota. A platform that mandates WAF can associate its web ACL with this stage.',
    });
    Validations.of(stage).acknowledge({
      id: 'AwsSolutions-APIG6',
      reason:
        'Every request is logged by the stage\'s JSON access log (caller, status, error type and message, latencies) and the function ' +
        'logs each outcome. Execution logging needs the account-wide API Gateway CloudWatch role, an account singleton this stack must not own.',
    });
    return api;
  }
}

function statement(sid: string, actions: string[], resources: string[]): PolicyStatement {
  return new PolicyStatement({ sid, effect: Effect.ALLOW, actions, resources });
}

/** Key schema and TTL from the shared definition; every key attribute is a string. */
function tableKeys(definition: TableDefinition): Pick<TableProps, 'partitionKey' | 'sortKey' | 'timeToLiveAttribute'> {
  return {
    partitionKey: { name: definition.partitionKey, type: AttributeType.STRING },
    ...(definition.sortKey !== undefined && { sortKey: { name: definition.sortKey, type: AttributeType.STRING } }),
    timeToLiveAttribute: definition.timeToLiveAttribute,
  };
}

/**
 * The API's request model, generated from the same schema the function validates with, so the edge and the function
 * can never disagree about member names or limits. Only what API Gateway's draft-4 validator can express is accepted:
 * an object of string members with length limits and no other members.
 */
export function transferRequestModel(): JsonSchema {
  const generated = z.toJSONSchema(transferRequestSchema, { target: 'draft-04' });
  if (generated.type !== 'object' || generated.additionalProperties !== false || generated.properties === undefined) {
    throw new Error('The request schema is no longer a closed object; update transferRequestModel().');
  }
  const properties: Record<string, JsonSchema> = {};
  for (const [name, member] of Object.entries(generated.properties)) {
    if (typeof member !== 'object' || member.type !== 'string') {
      throw new Error(`Request member ${name} is not a plain string; update transferRequestModel().`);
    }
    properties[name] = {
      type: JsonSchemaType.STRING,
      ...(member.minLength !== undefined && { minLength: member.minLength }),
      ...(member.maxLength !== undefined && { maxLength: member.maxLength }),
    };
  }
  return {
    schema: JsonSchemaVersion.DRAFT4,
    title: 'TransferContactRequest',
    type: JsonSchemaType.OBJECT,
    required: generated.required ?? [],
    additionalProperties: false,
    properties,
  };
}

interface EdgeError {
  readonly type: ResponseType;
  /** Omitted: keep the status API Gateway chose. */
  readonly status?: number;
  readonly errorType: string;
  /** Template fragments: JSON values, either literal or API Gateway's quoted `$context` strings. */
  readonly reason: string;
  readonly message: string;
}

const literal = (text: string): string => JSON.stringify(text);
/** API Gateway's own message, already quoted and escaped for JSON. */
const AWS_MESSAGE = '$context.error.messageString';

/**
 * API Gateway's own answers (bad signature, body failing the model, throttling, integration errors) shaped like the
 * function's errors (contract section 5), so a caller parses one error format whichever layer refused it.
 */
function gatewayResponses(props: ContactTransferGatewayProps): EdgeError[] {
  const denied = (type: ResponseType, reason: string, message = AWS_MESSAGE): EdgeError => ({
    type,
    status: 403,
    errorType: 'AccessDeniedException',
    reason: literal(reason),
    message,
  });
  const invalid = (type: ResponseType, message: string): EdgeError => ({
    type,
    status: 400,
    errorType: 'InvalidRequestException',
    reason: literal('VALIDATION_FAILED'),
    message,
  });
  return [
    denied(ResponseType.ACCESS_DENIED, 'ACCESS_DENIED'),
    denied(
      ResponseType.MISSING_AUTHENTICATION_TOKEN,
      'MISSING_AUTHENTICATION_TOKEN',
      // API Gateway answers an unknown path or method the same way; its own text ("Missing Authentication Token") misleads.
      literal('The request is not signed with AWS Signature Version 4, or the method and path do not exist: sign a POST to /contact/transfer or a GET of /contact/transfers/{ContactId}.'),
    ),
    denied(ResponseType.INVALID_SIGNATURE, 'INVALID_SIGNATURE'),
    denied(ResponseType.EXPIRED_TOKEN, 'EXPIRED_TOKEN'),
    denied(ResponseType.UNAUTHORIZED, 'ACCESS_DENIED'),
    invalid(
      ResponseType.BAD_REQUEST_BODY,
      '"The body is not a TransferContact request (ContactId and ContactFlowId required, known members only, strings within their limits): $context.error.validationErrorString"',
    ),
    invalid(ResponseType.BAD_REQUEST_PARAMETERS, '"The request parameters are invalid: $context.error.validationErrorString"'),
    invalid(ResponseType.REQUEST_TOO_LARGE, literal('The body is too large; a request is at most 16 KiB.')),
    {
      type: ResponseType.THROTTLED,
      status: 429,
      errorType: 'ThrottlingException',
      reason: literal('THROTTLED'),
      message: literal(
        `Too many requests: the gateway admits ${props.throttlingRateLimit} per second (burst ${props.throttlingBurstLimit}), ` +
          'in line with Amazon Connect\'s TransferContact quota. Retry with backoff and the same idempotency key.',
      ),
    },
    {
      // Anything else API Gateway refuses keeps its status; the reason is API Gateway's response type.
      type: ResponseType.DEFAULT_4XX,
      errorType: 'InvalidRequestException',
      reason: '"$context.error.responseType"',
      message: AWS_MESSAGE,
    },
    {
      // Never API Gateway's text for a 5xx: no internals leave the gateway (contract section 5).
      type: ResponseType.DEFAULT_5XX,
      status: 500,
      errorType: 'InternalServiceException',
      reason: literal('INTERNAL_ERROR'),
      message: literal('The gateway could not complete the request. Retry with the same idempotency key: a transfer that succeeded is returned, not repeated.'),
    },
  ];
}

/**
 * One JSON object per request. `messageString` is API Gateway's quoted and escaped form, the rest are plain values,
 * so the line stays valid JSON whatever the error says.
 */
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  `{${[
    ['requestId', '$context.requestId'],
    ['extendedRequestId', '$context.extendedRequestId'],
    ['requestTime', '$context.requestTime'],
    ['sourceIp', '$context.identity.sourceIp'],
    ['accountId', '$context.identity.accountId'],
    ['caller', '$context.identity.caller'],
    ['userArn', '$context.identity.userArn'],
    ['userAgent', '$context.identity.userAgent'],
    ['httpMethod', '$context.httpMethod'],
    ['resourcePath', '$context.resourcePath'],
    ['protocol', '$context.protocol'],
    ['status', '$context.status'],
    ['responseLength', '$context.responseLength'],
    ['responseLatency', '$context.responseLatency'],
    ['integrationStatus', '$context.integration.status'],
    ['integrationLatency', '$context.integration.latency'],
    ['errorType', '$context.error.responseType'],
  ]
    .map(([field, value]) => `"${field}":"${value}"`)
    .concat(`"errorMessage":${AWS_MESSAGE}`)
    .join(',')}}`,
);
