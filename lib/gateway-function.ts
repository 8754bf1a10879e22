import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Duration} from 'aws-cdk-lib';
import { AssetHashType, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Code, Function as LambdaFn, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ENV, loadConfig, METRICS_NAMESPACE } from '../lambda/config';
import type { ConnectInstance } from '../lambda/domain/arn';
import { encode, SETTINGS } from '../lambda/settings';
import type { Setting } from '../lambda/settings';
import { EVENT_BUFFER } from '../lambda/event-buffer';
import type { GatewaySettings } from './gateway-props';

/**
 * Where the construct package (construct/package.json) ships the function's bundle, built when it is packed. A CDK app
 * that installs the package synthesizes from it, with neither tsx nor esbuild. In this repository there is none, and
 * synth builds the bundle from lambda/ as it is, so an edit is deployed without a build step in between.
 */
export const PREBUILT_BUNDLE_DIR = path.join(__dirname, '..', 'gateway-function-bundle');
const PROJECT_ROOT = path.join(__dirname, '..');
/**
 * The function's runtime: the Node its bundle targets (lib/gateway-bundle.ts) and the project builds and tests on
 * (.nvmrc, package.json's engines). All four move together; a test holds them to one major.
 */
export const FUNCTION_RUNTIME = Runtime.NODEJS_24_X;

/**
 * The function's code: the package's prebuilt bundle, or `lib/gateway-bundle.ts` run by esbuild on this machine (never
 * Docker), in a child process because CDK's bundling hook is synchronous and the bundle needs an esbuild plugin. Hashed
 * by output, so a change anywhere the bundle reaches (lambda/, a dependency) is a new asset and nothing else is.
 */
function gatewayCode(): Code {
  if (existsSync(path.join(PREBUILT_BUNDLE_DIR, 'index.js'))) return Code.fromAsset(PREBUILT_BUNDLE_DIR);
  return Code.fromAsset(path.join(PROJECT_ROOT, 'lambda'), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Required by the type; unused, since local bundling either succeeds or throws.
      image: FUNCTION_RUNTIME.bundlingImage,
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

export function statement(sid: string, actions: string[], resources: string[]): PolicyStatement {
  return new PolicyStatement({ sid, effect: Effect.ALLOW, actions, resources });
}

/** Every setting the function reads, as the table encodes it for the environment. */
function settingsEnvironment(settings: GatewaySettings): Record<string, string> {
  const values = settings as unknown as Readonly<Record<string, unknown>>;
  const environment: Record<string, string> = {};
  for (const definition of Object.values(SETTINGS) as readonly Setting<unknown>[]) {
    const value = definition.context === undefined ? undefined : values[definition.context];
    if (definition.env !== undefined && value !== undefined) environment[definition.env] = encode(value);
  }
  return environment;
}

export interface GatewayFunctionProps {
  readonly settings: GatewaySettings;
  /** `<stack>-<construct id>`: the function's Powertools service name. */
  readonly gatewayName: string;
  readonly timeout: Duration;
  readonly idempotencyTable: ITable;
  readonly ledgerTable: ITable;
  readonly eventBuffer: IQueue;
}

export interface GatewayFunctions {
  /** Invoked by API Gateway, the event source mappings and the sweep schedule alone. */
  readonly gatewayFunction: LambdaFn;
  readonly role: Role;
  /** Direct invocation (contract section 3.3): the function callers are granted. */
  readonly directFunction: LambdaFn;
  readonly directRole: Role;
}

/**
 * What both functions' roles hold: the Connect actions and the transfer's tables. The direct-invocation function holds
 * exactly this and its own log group; the service function adds the buffer's and the backstops' actions.
 */
function transferGrants(instance: ConnectInstance, idempotencyTable: ITable, ledgerTable: ITable): PolicyStatement[] {
  const arns = connectResourceArns(instance);
  return [
    // The Service Authorization Reference (list_amazonconnect.html) lists exactly three resource types for
    // connect:TransferContact, all required: instance*, contact*, contact-flow* (the same in the iam-dataset generated
    // from it, iann0036/iam-dataset aws/iam_definition.json). Queue and user (agent) are not among them, so IAM
    // never evaluates their ARNs for this action and a grant on them would add nothing.
    statement('ConnectTransferContact', ['connect:TransferContact'], [arns.instance, arns.contacts, arns.flows]),
    statement('ConnectDescribeContact', ['connect:DescribeContact'], [arns.contacts]),
    statement('ConnectDescribeContactFlow', ['connect:DescribeContactFlow'], [arns.flows]),
    statement('ConnectDescribeQueue', ['connect:DescribeQueue'], [arns.queues]),
    statement('ConnectDescribeUser', ['connect:DescribeUser'], [arns.users]),
    // Powertools idempotency records, and the shared pacer's one item.
    statement('IdempotencyRecords', ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], [idempotencyTable.tableArn]),
    // No action that deletes (BatchWriteItem can). The ledger writes with TransactWriteItems, which IAM authorises per
    // contained action: Put and Update, each with a condition that refuses to overwrite. IAM cannot require that
    // condition, so append-only rests on the code; point-in-time recovery and deletion protection on the table are the
    // backstops (contract section 7). GetItem is the history's tree lookup. Failure records are conditional PutItems.
    statement(
      'TransferLedger',
      ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      [ledgerTable.tableArn],
    ),
  ];
}

/** A role for one of the gateway's functions: what `grants` name and its own log group, never AWSLambdaBasicExecutionRole. */
function functionRole(scope: Construct, id: string, settings: GatewaySettings, grants: readonly PolicyStatement[], logGroupArn: string): Role {
  const instance = settings.connectInstance;
  // A role of our own instead of the one Lambda would create, so AWSLambdaBasicExecutionRole (logs:* on every log
  // group) is never attached: the function may write to its own log group and call exactly what its code calls.
  const role = new Role(scope, id, {
    assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
    description: `Contact transfer gateway for ${instance.arn}`,
  });
  [...grants, statement('OwnLogGroup', ['logs:CreateLogStream', 'logs:PutLogEvents'], [logGroupArn])].forEach((grant) => role.addToPolicy(grant));
  const arns = connectResourceArns(instance);
  for (const resource of [arns.contacts, arns.flows, arns.queues, arns.users]) {
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${resource}]`,
      reason:
        'Contact, flow, queue and user ids arrive with each request, so the resource is every one of that kind inside ' +
        'the one configured Connect instance: the narrowest ARN Connect authorizes these actions on. The instance id is fixed.',
    });
  }
  if (settings.tracing) {
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Active tracing (opt-in): xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions.',
    });
  }
  return role;
}

/**
 * The gateway's two functions from one bundle, each with its log group and a role of its own, built into the
 * gateway's scope (the service function's logical ids as they were). The REST API's id is added to the service
 * function's environment once the API exists.
 */
export function gatewayFunction(scope: Construct, props: GatewayFunctionProps): GatewayFunctions {
  const { settings, idempotencyTable, ledgerTable, eventBuffer } = props;
  const instance = settings.connectInstance;
  const logGroup = (id: string) => new LogGroup(scope, id, { retention: settings.logRetentionDays as RetentionDays, removalPolicy: RemovalPolicy.RETAIN });
  const functionLogs = logGroup('FunctionLogs');
  const directLogs = logGroup('DirectFunctionLogs');
  const transfer = transferGrants(instance, idempotencyTable, ledgerTable);
  const role = functionRole(scope, 'FunctionRole', settings, [
    ...transfer,
    // The event source mapping polls with the function's role: exactly the actions the Lambda developer guide lists,
    // and the function's own ChangeMessageVisibility, which sets when a failed record returns (lambda/event-buffer.ts).
    statement('EventBuffer', ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'], [eventBuffer.queueArn]),
  ], functionLogs.logGroupArn);
  const directRole = functionRole(scope, 'DirectFunctionRole', settings, transfer, directLogs.logGroupArn);

  const transferEnvironment: Record<string, string> = {
    ...settingsEnvironment(settings),
    [ENV.idempotencyTable]: idempotencyTable.tableName,
    [ENV.ledgerTable]: ledgerTable.tableName,
    [ENV.stackAccount]: instance.account,
    [ENV.serviceName]: props.gatewayName,
    [ENV.metricsNamespace]: METRICS_NAMESPACE,
  };
  const environment: Record<string, string> = {
    ...transferEnvironment,
    // What only this stack's triggers put into an event; the REST API's id is added once the API exists.
    [ENV.eventBufferQueueArn]: eventBuffer.queueArn,
    [ENV.eventMaxReceives]: String(EVENT_BUFFER.maxReceiveCount),
  };
  // The function's own configuration check, run at synth: a value it would refuse at cold start fails here instead.
  // The queue ARN is a token until deploy; a placeholder of the same shape stands in for the check.
  loadConfig({ ...environment, [ENV.eventBufferQueueArn]: `arn:aws:sqs:${instance.region}:${instance.account}:event-buffer` });

  // One asset for both functions: the same bundle, two handlers (lambda/handler.ts).
  const code = gatewayCode();
  const fn = (id: string, handler: string, description: string, fnRole: Role, logs: LogGroup, variables: Record<string, string>) =>
    new LambdaFn(scope, id, {
      description,
      code,
      handler,
      runtime: FUNCTION_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: settings.memorySize,
      timeout: props.timeout,
      role: fnRole,
      logGroup: logs,
      ...(settings.tracing && { tracing: Tracing.ACTIVE }),
      // No NODE_OPTIONS=--enable-source-maps: Node then reads the bundle's source map at every cold start and maps
      // every stack trace it formats, which `npm run bench` measures in the cold start and the first failing request
      // (docs/performance.md). The map ships with the bundle; set the option on the function to debug with it.
      environment: variables,
    });
  const gatewayFunction = fn('Function', 'index.handler', `Contact transfer gateway for ${instance.arn}`, role, functionLogs, environment);
  const directFunction = fn('DirectFunction', 'index.invoke', `Contact transfer gateway for ${instance.arn}: direct invocation`, directRole, directLogs, transferEnvironment);
  // AwsSolutions-L1 asks for the newest Node runtime the app's aws-cdk-lib names, so an app upgrading aws-cdk-lib
  // would otherwise fail a synth that nothing in it changed.
  for (const created of [gatewayFunction, directFunction]) {
    Validations.of(created).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        `${FUNCTION_RUNTIME.name} is the Node the function's bundle targets and its tests run on, and the newest Node runtime ` +
        'in every Region (aws-cdk-lib\'s NODEJS_LATEST). The runtime moves with the Node the project builds and tests on, ' +
        'not with the aws-cdk-lib an app installs.',
    });
  }
  return { gatewayFunction, role, directFunction, directRole };
}
