/** Amazon Connect ARNs (docs/connect-api.md, "ARNs and IAM"). */
export interface ConnectInstance {
  readonly arn: string;
  readonly id: string;
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

const INSTANCE_ARN = /^arn:(aws[a-z-]*):connect:([a-z0-9-]+):(\d{12}):instance\/([A-Za-z0-9-]{1,100})$/;

export function parseInstanceArn(arn: string): ConnectInstance | undefined {
  const match = INSTANCE_ARN.exec(arn);
  if (!match) return undefined;
  const [, partition, region, account, id] = match as unknown as [string, string, string, string, string];
  return { arn, id, partition, region, account };
}

/** The resource kinds a request may name by ARN, as Connect spells them inside the ARN. */
export type InstanceResourceKind = 'queue' | 'agent' | 'contact-flow';

export type ResolvedId =
  | { readonly kind: 'id'; readonly id: string }
  | { readonly kind: 'other-instance' }
  | { readonly kind: 'malformed'; readonly expected: string };

/**
 * Connect accepts a queue, user or flow by id or by ARN. The gateway works with ids, and an ARN must point into
 * the configured instance: otherwise a caller could name a resource this gateway is not meant to touch.
 */
export function resolveResourceId(value: string, kind: InstanceResourceKind, instance: ConnectInstance): ResolvedId {
  if (!value.startsWith('arn:')) return { kind: 'id', id: value };
  const separator = `/${kind}/`;
  const at = value.lastIndexOf(separator);
  const owner = at < 0 ? undefined : parseInstanceArn(value.slice(0, at));
  const id = at < 0 ? '' : value.slice(at + separator.length);
  if (!owner || id === '' || id.includes('/')) {
    return { kind: 'malformed', expected: `${instance.arn}${separator}<id>` };
  }
  return owner.arn === instance.arn ? { kind: 'id', id } : { kind: 'other-instance' };
}

export function contactArn(instance: ConnectInstance, contactId: string): string {
  return `${instance.arn}/contact/${contactId}`;
}
