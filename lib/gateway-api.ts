import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
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
import type { EndpointConfiguration, JsonSchema, RequestValidator } from 'aws-cdk-lib/aws-apigateway';
import { InterfaceVpcEndpoint } from 'aws-cdk-lib/aws-ec2';
import { AccountPrincipal, AnyPrincipal, Effect, PolicyDocument, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import * as z from 'zod/mini';
import { transferRequestSchema } from '../lambda/domain/request';
import { HISTORY_RESOURCE } from '../lambda/domain/history';
import { SCHEDULE_AHEAD_SECONDS, SCHEDULE_RESOURCE, SCHEDULES_RESOURCE } from '../lambda/domain/schedule';
import type { GatewaySettings } from './gateway-props';

export const TRANSFER_PATH = ['contact', 'transfer'] as const;
/** `contact/transfers/{ContactId}`, as the function matches it. */
const HISTORY_PATH = HISTORY_RESOURCE.split('/').filter((part) => part !== '');
/** `contact/transfer/schedules` and `contact/transfer/schedules/{ScheduleId}`, as the function matches them. */
const SCHEDULES_PATH = SCHEDULES_RESOURCE.split('/').filter((part) => part !== '');
const SCHEDULE_PATH = SCHEDULE_RESOURCE.split('/').filter((part) => part !== '');

/** Every method as a policy names it (`<method>/<path>`; `*` for any contact or schedule id). */
const METHOD_PATHS = {
  transfer: { method: 'POST', path: TRANSFER_PATH.join('/') },
  history: { method: 'GET', path: `${HISTORY_PATH.slice(0, -1).join('/')}/*` },
  scheduleCreate: { method: 'POST', path: SCHEDULES_PATH.join('/') },
  scheduleList: { method: 'GET', path: SCHEDULES_PATH.join('/') },
  scheduleRead: { method: 'GET', path: `${SCHEDULE_PATH.slice(0, -1).join('/')}/*` },
  scheduleCancel: { method: 'DELETE', path: `${SCHEDULE_PATH.slice(0, -1).join('/')}/*` },
} as const;

/** The `execute-api:Invoke` resources of the schedule routes, one capability each, for a caller's identity policy. */
export interface ScheduleInvokeArns {
  /** `POST /contact/transfer/schedules`. */
  readonly create: string;
  /** `GET /contact/transfer/schedules` (a contact's schedules) and `GET /contact/transfer/schedules/*` (one schedule). */
  readonly read: readonly string[];
  /** `DELETE /contact/transfer/schedules/*`. */
  readonly cancel: string;
}

export interface MethodArns {
  readonly transfer: string;
  readonly history: string;
  readonly schedules: ScheduleInvokeArns;
}

/**
 * The `execute-api:Invoke` resource ARNs of the API's methods on its stage: what a caller's identity policy allows,
 * each capability without the others if it likes (reading schedules without making them, or the history alone).
 */
export function methodArns(api: RestApi): MethodArns {
  const arnOf = ({ method, path }: { method: string; path: string }) => api.arnForExecuteApi(method, `/${path}`, api.deploymentStage.stageName);
  return {
    transfer: arnOf(METHOD_PATHS.transfer),
    history: arnOf(METHOD_PATHS.history),
    schedules: {
      create: arnOf(METHOD_PATHS.scheduleCreate),
      read: [arnOf(METHOD_PATHS.scheduleList), arnOf(METHOD_PATHS.scheduleRead)],
      cancel: arnOf(METHOD_PATHS.scheduleCancel),
    },
  };
}

export interface GatewayApiProps {
  readonly settings: GatewaySettings;
  /** Names the API. */
  readonly gatewayName: string;
  /** The function behind both routes. */
  readonly gatewayFunction: IFunction;
}

/**
 * The HTTPS door: an IAM-authorized REST API with a resource policy, the request model generated from the function's
 * schema, both routes, stage throttling and JSON access logs, and API Gateway's own errors shaped like the function's.
 * Built into the gateway's scope, so its resources keep their logical ids.
 */
export function gatewayApi(scope: Construct, props: GatewayApiProps): RestApi {
  const { settings, gatewayName, gatewayFunction: handler } = props;
  const stageName = settings.stageName;
  const stack = Stack.of(scope);
  const accessLogs = new LogGroup(scope, 'ApiAccessLogs', {
    retention: settings.logRetentionDays as RetentionDays,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  // One ARN per method, so a caller's identity policy can allow reading the history without allowing transfers.
  const methodResources = Object.values(METHOD_PATHS).map(({ method, path }) => `execute-api:/*/${method}/${path}`);
  const statements = [
    // The deploying account, and any listed ones, delegate to their own IAM: a caller also needs an identity policy
    // allowing execute-api:Invoke. Principals of any other account are refused by this policy.
    new PolicyStatement({
      sid: 'AllowedAccounts',
      effect: Effect.ALLOW,
      principals: [stack.account, ...settings.allowedAccounts].map((account) => new AccountPrincipal(account)),
      actions: ['execute-api:Invoke'],
      resources: methodResources,
    }),
  ];
  if (settings.vpcEndpointIds.length > 0) {
    // A private API is reachable only through interface endpoints; this keeps it to the listed ones.
    statements.push(
      new PolicyStatement({
        sid: 'OnlyThroughListedVpcEndpoints',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
        conditions: { StringNotEquals: { 'aws:SourceVpce': [...settings.vpcEndpointIds] } },
      }),
    );
  }
  if (settings.allowedOrganizationId !== undefined) {
    statements.push(
      new PolicyStatement({
        sid: 'AllowedOrganization',
        effect: Effect.ALLOW,
        principals: [new AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: methodResources,
        conditions: { StringEquals: { 'aws:PrincipalOrgID': settings.allowedOrganizationId } },
      }),
    );
  }

  const api = new RestApi(scope, 'Api', {
    restApiName: gatewayName,
    description: `Contact transfer gateway for ${settings.connectInstance.arn}`,
    endpointConfiguration: endpointConfiguration(scope, settings.vpcEndpointIds),
    // The account-wide API Gateway logging role is a singleton that a reusable construct must not own.
    cloudWatchRole: false,
    policy: new PolicyDocument({ statements }),
    defaultMethodOptions: { authorizationType: AuthorizationType.IAM },
    deployOptions: {
      stageName,
      throttlingRateLimit: settings.throttlingRateLimit,
      throttlingBurstLimit: settings.throttlingBurstLimit,
      accessLogDestination: new LogGroupLogDestination(accessLogs),
      accessLogFormat: ACCESS_LOG_FORMAT,
      tracingEnabled: settings.tracing,
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
  const method = resource.addMethod('POST', new LambdaIntegration(handler, { proxy: true, allowTestInvoke: false }), {
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
  const historyMethod = historyResource.addMethod('GET', new LambdaIntegration(handler, { proxy: true, allowTestInvoke: false }), {
    authorizationType: AuthorizationType.IAM,
    requestValidator: validator,
    requestParameters: { 'method.request.querystring.MaxResults': false, 'method.request.querystring.NextToken': false },
  });
  Validations.of(historyMethod).acknowledge({
    id: 'AwsSolutions-COG4',
    reason: 'The history is read by the same internal services as the transfer method, with the same SigV4 (AWS_IAM) authorisation; there is no user pool.',
  });

  scheduleMethods(api, handler, validator);

  for (const response of gatewayResponses(settings)) {
    api.addGatewayResponse(response.type.responseType, {
      type: response.type,
      ...(response.status !== undefined && { statusCode: String(response.status) }),
      responseHeaders: { 'x-amzn-ErrorType': `'${response.errorType}'` },
      templates: {
        'application/json': `{"Type":"${response.errorType}","ReasonCode":${response.reason},"Message":${response.message}}`,
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

/**
 * The schedule routes (contract section 12), IAM-authorised and on the same proxy integration as the others: create
 * (its body checked against the schedule request's model), a contact's schedules (ContactId required at the edge),
 * one schedule, and cancel.
 */
function scheduleMethods(api: RestApi, handler: IFunction, validator: RequestValidator): void {
  const integration = new LambdaIntegration(handler, { proxy: true, allowTestInvoke: false });
  const model = api.addModel('ScheduleTransferRequest', {
    contentType: 'application/json',
    modelName: 'ScheduleTransferRequest',
    description: 'The request of contract section 2 with At or AfterSeconds (section 12)',
    schema: scheduleRequestModel(),
  });
  const schedules = SCHEDULES_PATH.reduce((parent, part) => parent.getResource(part) ?? parent.addResource(part), api.root);
  const schedule = schedules.addResource(SCHEDULE_PATH.at(-1) ?? '');
  const methods = [
    schedules.addMethod('POST', integration, { authorizationType: AuthorizationType.IAM, requestValidator: validator, requestModels: { 'application/json': model } }),
    schedules.addMethod('GET', integration, {
      authorizationType: AuthorizationType.IAM,
      requestValidator: validator,
      requestParameters: {
        'method.request.querystring.ContactId': true,
        'method.request.querystring.MaxResults': false,
        'method.request.querystring.NextToken': false,
      },
    }),
    schedule.addMethod('GET', integration, { authorizationType: AuthorizationType.IAM }),
    schedule.addMethod('DELETE', integration, { authorizationType: AuthorizationType.IAM }),
  ];
  for (const method of methods) {
    Validations.of(method).acknowledge({
      id: 'AwsSolutions-COG4',
      reason: 'Schedules are made, read and cancelled by the same internal services as transfers, with the same SigV4 (AWS_IAM) authorisation; there is no user pool.',
    });
  }
}

/** Regional by default; private, bound to the given interface endpoints, when there are any. */
function endpointConfiguration(scope: Construct, vpcEndpointIds: readonly string[]): EndpointConfiguration {
  if (vpcEndpointIds.length === 0) return { types: [EndpointType.REGIONAL] };
  return {
    types: [EndpointType.PRIVATE],
    vpcEndpoints: vpcEndpointIds.map((vpcEndpointId) =>
      InterfaceVpcEndpoint.fromInterfaceVpcEndpointAttributes(scope, `ApiEndpoint-${vpcEndpointId}`, { vpcEndpointId, port: 443 }),
    ),
  };
}

/**
 * The API's request model, generated from the same schema the function validates with, so the edge and the function
 * can never disagree about member names or limits. Only what API Gateway's draft-4 validator can express is accepted:
 * closed objects of strings with length limits, whole numbers with bounds, and `true`. Checks the validator cannot
 * express (Conditions naming at least one condition, printable text) are the function's.
 */
export function transferRequestModel(): JsonSchema {
  return edgeModelOf('TransferContactRequest', transferRequestSchema);
}

/**
 * The schedule route's request model: the transfer request's, with `At` and `AfterSeconds` in the bounds the function
 * holds them to. "Exactly one of them" and `At`'s format and window are the function's checks.
 */
function scheduleRequestModel(): JsonSchema {
  const timed = z.extend(transferRequestSchema, {
    At: z.optional(z.string()),
    AfterSeconds: z.optional(z.int().check(z.minimum(SCHEDULE_AHEAD_SECONDS.min), z.maximum(SCHEDULE_AHEAD_SECONDS.max))),
  });
  return edgeModelOf('ScheduleTransferRequest', timed);
}

function edgeModelOf(title: string, schema: z.core.$ZodType): JsonSchema {
  const generated = z.toJSONSchema(schema, { target: 'draft-04' });
  return { schema: JsonSchemaVersion.DRAFT4, title, ...edgeSchemaOf(`The ${title} schema`, generated as GeneratedSchema) };
}

type GeneratedSchema = z.core.JSONSchema.BaseSchema;

function edgeSchemaOf(name: string, member: GeneratedSchema | boolean): JsonSchema {
  if (typeof member !== 'object') throw new Error(`${name} has no schema API Gateway can check; update edgeSchemaOf().`);
  switch (member.type) {
    case 'string':
      return {
        type: JsonSchemaType.STRING,
        ...(member.minLength !== undefined && { minLength: member.minLength }),
        ...(member.maxLength !== undefined && { maxLength: member.maxLength }),
      };
    case 'integer':
      return {
        type: JsonSchemaType.INTEGER,
        ...(member.minimum !== undefined && { minimum: member.minimum }),
        ...(member.maximum !== undefined && { maximum: member.maximum }),
      };
    case 'boolean':
      return { type: JsonSchemaType.BOOLEAN, ...(member.enum !== undefined && { enum: member.enum }) };
    case 'object': {
      if (member.additionalProperties !== false || member.properties === undefined) throw new Error(`${name} is no longer a closed object; update edgeSchemaOf().`);
      const properties = Object.fromEntries(Object.entries(member.properties).map(([key, value]) => [key, edgeSchemaOf(`Request member ${key}`, value)]));
      return { type: JsonSchemaType.OBJECT, ...(member.required && { required: member.required }), additionalProperties: false, properties };
    }
    default:
      throw new Error(`${name} is of a kind edgeSchemaOf() does not map (${String(member.type)}); update it.`);
  }
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
function gatewayResponses(settings: GatewaySettings): EdgeError[] {
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
      literal('The request is not signed with AWS Signature Version 4, or the method and path do not exist: the routes are POST /contact/transfer, GET /contact/transfers/{ContactId}, POST and GET /contact/transfer/schedules, and GET and DELETE /contact/transfer/schedules/{ScheduleId}.'),
    ),
    denied(ResponseType.INVALID_SIGNATURE, 'INVALID_SIGNATURE'),
    denied(ResponseType.EXPIRED_TOKEN, 'EXPIRED_TOKEN'),
    denied(ResponseType.UNAUTHORIZED, 'ACCESS_DENIED'),
    invalid(
      ResponseType.BAD_REQUEST_BODY,
      '"The body is not a TransferContact request (ContactId and ContactFlowId required, At or AfterSeconds with a schedule, known members only, values within their limits): $context.error.validationErrorString"',
    ),
    invalid(ResponseType.BAD_REQUEST_PARAMETERS, '"The request parameters are invalid: $context.error.validationErrorString"'),
    invalid(ResponseType.REQUEST_TOO_LARGE, literal('The body is too large; a request is at most 16 KiB.')),
    {
      type: ResponseType.THROTTLED,
      status: 429,
      errorType: 'ThrottlingException',
      reason: literal('THROTTLED'),
      message: literal(
        `Too many requests: the gateway admits ${settings.throttlingRateLimit} per second (burst ${settings.throttlingBurstLimit}), ` +
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
