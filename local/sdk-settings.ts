import type { SdkClientSettings } from '../lambda/gateway';

/**
 * The SDK settings a shell's environment names, under the variables the SDK itself reads, so that local mode and the
 * tests hand them to their gateways instead of writing them into process.env (which every gateway in the process
 * would then share). Local endpoints accept any signature; the SDK still wants credentials and a Region to sign
 * with, hence the stand-ins when none are set.
 */
export function sdkSettingsFrom(env: Readonly<Record<string, string | undefined>>): SdkClientSettings {
  const connect = env.AWS_ENDPOINT_URL_CONNECT || undefined;
  const dynamodb = env.AWS_ENDPOINT_URL_DYNAMODB || undefined;
  const sqs = env.AWS_ENDPOINT_URL_SQS || undefined;
  const scheduler = env.AWS_ENDPOINT_URL_SCHEDULER || undefined;
  return {
    region: env.AWS_REGION || 'us-east-1',
    endpoints: { ...(connect && { connect }), ...(dynamodb && { dynamodb }), ...(sqs && { sqs }), ...(scheduler && { scheduler }) },
    credentials: {
      accessKeyId: env.AWS_ACCESS_KEY_ID || 'local',
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY || 'local',
      ...(env.AWS_SESSION_TOKEN && { sessionToken: env.AWS_SESSION_TOKEN }),
    },
  };
}
