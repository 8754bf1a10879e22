import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ContactTransferGatewayStack } from '../../lib/contact-transfer-gateway-stack';
import type { ContactTransferGatewayProps } from '../../lib/contact-transfer-gateway';
import { parseGatewayContext } from '../../lib/context';

export const ACCOUNT = '111122223333';
export const REGION = 'us-east-1';
export const INSTANCE_ID = '00000000-0000-4000-8000-000000000000';
export const INSTANCE_ARN = `arn:aws:connect:${REGION}:${ACCOUNT}:instance/${INSTANCE_ID}`;

const ROOT = path.join(__dirname, '..', '..');

/**
 * The API's methods as its resource policy names them, one ARN each, so an identity policy can grant reading the
 * history or schedules without granting transfers.
 */
export const METHOD_RESOURCES = [
  'execute-api:/*/DELETE/contact/transfer/schedules/*',
  'execute-api:/*/GET/contact/transfer/schedules',
  'execute-api:/*/GET/contact/transfer/schedules/*',
  'execute-api:/*/GET/contact/transfers/*',
  'execute-api:/*/POST/contact/transfer',
  'execute-api:/*/POST/contact/transfer/schedules',
];

/** cdk.json's feature flags, so the tests see the template `cdk synth` produces (partition literals, minimized policies). */
function projectContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

export interface Synthesized {
  readonly app: App;
  readonly stack: ContactTransferGatewayStack;
  readonly template: Template;
  /** Removes the temporary cloud assembly. */
  readonly cleanup: () => void;
}

export interface SynthOptions {
  /** Raw CDK context for the gateway keys (connectInstanceArn defaults to the test instance). */
  readonly context?: Record<string, unknown>;
  /** Overrides on top of the parsed context. */
  readonly props?: Partial<ContactTransferGatewayProps>;
  /** Run esbuild for real (about a second); otherwise the asset is a placeholder. */
  readonly bundle?: boolean;
  /** What an app does with the stack before it is synthesized (adds a role, names it to the gateway). */
  readonly configure?: (stack: ContactTransferGatewayStack) => void;
}

/** Synthesizes the stack once into a temporary cloud assembly; call cleanup in afterAll. */
export function synthesize({ context = {}, props = {}, bundle = false, configure }: SynthOptions = {}): Synthesized {
  const outdir = mkdtempSync(path.join(tmpdir(), 'ctg-stack-test-'));
  const app = new App({
    outdir,
    context: {
      ...projectContext(),
      // An empty list skips bundling for every stack.
      ...(bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
    },
  });
  const settings = parseGatewayContext({ connectInstanceArn: INSTANCE_ARN, ...context });
  const stack = new ContactTransferGatewayStack(app, 'ContactTransferGateway', {
    env: { account: ACCOUNT, region: REGION },
    gateway: { ...settings, ...props },
  });
  configure?.(stack);
  const template = Template.fromStack(stack);
  return { app, stack, template, cleanup: () => rmSync(outdir, { recursive: true, force: true }) };
}

type Resource = { readonly Type: string; readonly Properties?: Record<string, unknown> } & Record<string, unknown>;

/** The only resource of a type, failing loudly when there are more or none. */
export function only(template: Template, type: string): { readonly id: string; readonly resource: Resource } {
  const found = Object.entries(template.findResources(type) as Record<string, Resource>);
  if (found.length !== 1) throw new Error(`expected exactly one ${type}, found ${found.length}`);
  const [id, resource] = found[0]!;
  return { id, resource };
}

/**
 * The function behind the API, the buffer, the dead-letter queue and the sweep (handler `index.handler`); the
 * direct-invocation function (`index.invoke`) is the other AWS::Lambda::Function of the stack.
 */
export function serviceFunction(template: Template): { readonly id: string; readonly resource: Resource } {
  return functionWithHandler(template, 'index.handler');
}

export function functionWithHandler(template: Template, handler: string): { readonly id: string; readonly resource: Resource } {
  const found = Object.entries(template.findResources('AWS::Lambda::Function', { Properties: { Handler: handler } }) as Record<string, Resource>);
  if (found.length !== 1) throw new Error(`expected exactly one function with handler ${handler}, found ${found.length}`);
  const [id, resource] = found[0]!;
  return { id, resource };
}

export function all(template: Template, type: string): Resource[] {
  return Object.values(template.findResources(type) as Record<string, Resource>);
}

/** IAM's "one or many" written as many. */
export function asArray<T>(value: T | readonly T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? [...(value as T[])] : [value as T];
}
