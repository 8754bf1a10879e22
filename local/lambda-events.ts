import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, Context, ScheduledEvent } from 'aws-lambda';
import { ENV } from '../lambda/config';
import type { TransferEvent } from '../lambda/doors/sqs';

/**
 * The events Lambda would hand the function, built the way API Gateway (REST, v1 proxy) and EventBridge build
 * them, so local mode and the tests drive the handler through the same doors as in AWS.
 */
export interface HttpRequestInput {
  readonly body: string | null;
  /** A header sent more than once is given as the list of its values, in order. */
  readonly headers?: Record<string, string | readonly string[]>;
  readonly isBase64Encoded?: boolean;
  /** API Gateway puts the SigV4 caller here; locally there is none, so a stand-in. */
  readonly callerArn?: string;
  readonly account?: string;
  /** A route other than `POST /contact/transfer`, e.g. the history: GET, its resource template and parameters. */
  readonly route?: {
    readonly method: string;
    readonly resource: string;
    readonly path: string;
    readonly pathParameters: Record<string, string>;
    readonly query?: Record<string, string>;
  };
}

export const LOCAL_CALLER_ARN = 'arn:aws:iam::111122223333:user/local-developer';
const LOCAL_ACCOUNT = '111122223333';

/**
 * The REST API local mode and the tests stand in for. The function takes an event for an API Gateway one only when it
 * carries the API id, account and stage its configuration names, so whoever builds these events configures the
 * function with LOCAL_API_ENVIRONMENT (the stack sets the real API's instead).
 */
export const LOCAL_API = { id: 'local0api', stage: 'local' } as const;
export const LOCAL_API_ENVIRONMENT: Readonly<Record<string, string>> = { [ENV.apiId]: LOCAL_API.id, [ENV.apiStage]: LOCAL_API.stage };

export function apiGatewayProxyEvent(input: HttpRequestInput): APIGatewayProxyEvent {
  const account = input.account ?? LOCAL_ACCOUNT;
  const callerArn = input.callerArn ?? LOCAL_CALLER_ARN;
  const route = input.route ?? { method: 'POST', resource: '/contact/transfer', path: '/contact/transfer', pathParameters: null, query: undefined };
  const query = route.query && Object.keys(route.query).length > 0 ? route.query : null;
  const multiValueHeaders = Object.fromEntries(
    Object.entries(input.headers ?? {}).map(([name, value]) => [name, typeof value === 'string' ? [value] : [...value]]),
  );
  // As API Gateway does: `headers` keeps the last value of a repeated header, `multiValueHeaders` keeps them all.
  const headers = Object.fromEntries(Object.entries(multiValueHeaders).map(([name, values]) => [name, values.at(-1) ?? '']));
  return {
    httpMethod: route.method,
    path: route.path,
    resource: route.resource,
    body: input.body,
    isBase64Encoded: input.isBase64Encoded ?? false,
    headers,
    multiValueHeaders,
    pathParameters: route.pathParameters,
    queryStringParameters: query,
    multiValueQueryStringParameters: query && Object.fromEntries(Object.entries(query).map(([name, value]) => [name, [value]])),
    stageVariables: null,
    requestContext: {
      accountId: account,
      apiId: LOCAL_API.id,
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: route.method,
      path: `/${LOCAL_API.stage}${route.path}`,
      stage: LOCAL_API.stage,
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: route.resource,
      identity: {
        accessKey: null,
        accountId: account,
        apiKey: null,
        apiKeyId: null,
        caller: callerArn,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '127.0.0.1',
        user: callerArn,
        userAgent: headers['user-agent'] ?? headers['User-Agent'] ?? 'local',
        userArn: callerArn,
      },
    },
  };
}

export function eventBridgeEvent(detail: unknown, options: { source?: string; id?: string; account?: string; region?: string } = {}): TransferEvent {
  return {
    version: '0',
    id: options.id ?? randomUUID(),
    'detail-type': 'TransferContact',
    source: options.source ?? 'internal.contact-transfer',
    account: options.account ?? LOCAL_ACCOUNT,
    time: new Date().toISOString(),
    region: options.region ?? 'us-east-1',
    resources: [],
    detail,
  };
}

/** What an EventBridge schedule rule sends its target: source aws.events and the rule's ARN as the one resource. */
export function scheduledEvent(ruleArn: string, account = LOCAL_ACCOUNT): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account,
    time: new Date().toISOString(),
    region: ruleArn.split(':')[3] ?? 'us-east-1',
    resources: [ruleArn],
    detail: {},
  };
}

export function lambdaContext(remainingMs = 10_000): Context {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'contact-transfer-gateway',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:111122223333:function:contact-transfer-gateway',
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/contact-transfer-gateway',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
