import type { ConnectInstance } from '../lambda/domain/arn';
import { alarmTopicArn, instanceOf, SETTINGS } from '../lambda/settings';
import type { Setting } from '../lambda/settings';
import type { GatewaySettings } from './gateway-props';

export type { GatewaySettings } from './gateway-props';

/** The settings a CDK app passes as context and the construct takes as props (the rest the construct sets itself). */
export const CONTEXT_SETTINGS: readonly (Setting<unknown> & { readonly context: string })[] = (Object.values(SETTINGS) as readonly Setting<unknown>[]).filter(
  (definition): definition is Setting<unknown> & { readonly context: string } => definition.context !== undefined,
);

/** Where raw values come from: `app.node.tryGetContext`, or a plain object (cdk.json's shape, or the construct's props). */
export type ContextSource = ((key: string) => unknown) | Readonly<Record<string, unknown>>;

/** A context value is missing or malformed. The message is one line that says how to pass it. */
export class ContextError extends Error {
  constructor(
    readonly key: string,
    problem: string,
    example = '<value>',
  ) {
    super(`${problem}: pass -c ${key}=${example} to cdk, or set "${key}" under "context" in cdk.json.`);
    this.name = 'ContextError';
  }
}

/** A construct prop is malformed; thrown at synth with one line naming it. */
export class GatewayPropError extends Error {
  constructor(
    readonly key: string,
    problem: string,
  ) {
    super(problem);
    this.name = 'GatewayPropError';
  }
}

type Complaint = (key: string, problem: string, example: string) => Error;

/** Reads and validates every gateway context key against the settings table; throws ContextError on the first bad one. */
export function parseGatewayContext(source: ContextSource): GatewaySettings {
  return resolveSettings(source, 'CDK context', (key, problem, example) => new ContextError(key, problem, example));
}

/** The construct's props, checked against the same table with their defaults applied. */
export function resolveGatewayProps(props: Readonly<Record<string, unknown>>): GatewaySettings {
  return resolveSettings(props, 'ContactTransferGateway prop', (key, problem) => new GatewayPropError(key, problem));
}

function resolveSettings(source: ContextSource, what: string, complain: Complaint): GatewaySettings {
  const read = typeof source === 'function' ? source : (key: string): unknown => source[key];
  const resolved: Record<string, unknown> = {};
  for (const definition of CONTEXT_SETTINGS) {
    const key = definition.context;
    const raw = read(key);
    const value = typeof raw === 'string' && raw.trim() === '' ? undefined : raw;
    if (value === undefined || value === null) {
      if (definition.absent === 'required') throw complain(key, `Missing ${what} "${key}" (${definition.meaning})`, definition.kind.example);
      if (definition.default !== undefined) resolved[key] = definition.default;
      continue;
    }
    const parsed = definition.kind.parse(value);
    if (parsed === undefined) throw complain(key, `Invalid ${what} "${key}" ${shown(value)}, expected ${definition.kind.expectation}`, definition.kind.example);
    resolved[key] = parsed;
  }
  const settings = resolved as unknown as Omit<GatewaySettings, 'connectInstance'>;
  const connectInstance: ConnectInstance = instanceOf(settings.connectInstanceArn);
  // Alarm actions can only notify a topic in the alarm's own Region, which is the instance's.
  const topic = settings.alarmTopicArn;
  if (topic !== undefined && topic.split(':')[3] !== connectInstance.region) {
    const key = alarmTopicArn.context ?? 'alarmTopicArn';
    throw complain(
      key,
      `Invalid ${what} "${key}" ${shown(topic)}, expected a topic in ${connectInstance.region}, the Region the gateway deploys to`,
      `arn:aws:sns:${connectInstance.region}:${connectInstance.account}:ops-alarms`,
    );
  }
  return { ...settings, connectInstance };
}

/** The offending value, quoted and cut short so the error stays one readable line. */
function shown(value: unknown): string {
  const textValue = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  const oneLine = textValue.replace(/\s+/g, ' ');
  return `("${oneLine.length > 120 ? `${oneLine.slice(0, 117)}...` : oneLine}")`;
}
