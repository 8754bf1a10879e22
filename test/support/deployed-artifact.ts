import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { ENV } from '../../lambda/config';
import { ContactTransferGatewayStack } from '../../lib/contact-transfer-gateway-stack';
import { parseGatewayContext } from '../../lib/context';

/**
 * The function exactly as `cdk deploy` would upload it: the stack is synthesized with cdk.json's context, esbuild
 * bundles for real, and the bundle and environment are read back from the cloud assembly. Tests and the
 * benchmark load this, not the sources, so the artifact's format, bundled dependencies and configuration are
 * what they prove.
 */
export interface DeployedFunction {
  /** The bundle's entry file inside the cloud assembly. */
  readonly entry: string;
  readonly bytes: number;
  readonly handler: string;
  /** Literal variables as the template sets them; references (table names) are listed in `references`. */
  readonly environment: Readonly<Record<string, string>>;
  /** Variables whose value is a CloudFormation reference, by the logical id they refer to. */
  readonly references: Readonly<Record<string, string>>;
  cleanup(): void;
}

const ROOT = join(__dirname, '..', '..');

interface FunctionResource {
  readonly Type: string;
  readonly Properties: { Handler?: string; Code?: { S3Key?: unknown }; Environment?: { Variables?: Record<string, unknown> } };
}

export function synthesizeDeployedFunction(connectInstanceArn: string): DeployedFunction {
  const outdir = mkdtempSync(join(tmpdir(), 'ctg-artifact-'));
  try {
    const cdkJson = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
    const app = new App({ outdir, context: { ...cdkJson.context, connectInstanceArn } });
    const settings = parseGatewayContext((key) => app.node.tryGetContext(key));
    const stack = new ContactTransferGatewayStack(app, 'ContactTransferGateway', {
      env: { account: settings.connectInstance.account, region: settings.connectInstance.region },
      gateway: settings,
    });
    const assembly = app.synth();
    const template = assembly.getStackArtifact(stack.artifactId).template as { Resources: Record<string, FunctionResource> };
    const gatewayFunction = Object.values(template.Resources).find(
      (resource) =>
        resource.Type === 'AWS::Lambda::Function' && resource.Properties.Handler === 'index.handler' && resource.Properties.Environment?.Variables?.[ENV.instanceArn] !== undefined,
    );
    const assetKey = gatewayFunction?.Properties.Code?.S3Key;
    if (!gatewayFunction || typeof assetKey !== 'string') throw new Error('The synthesized stack has no gateway function with a file asset');
    // File assets are staged as asset.<hash> next to the template; the S3 key is <hash>.zip.
    const assetDir = join(outdir, `asset.${assetKey.replace(/\.zip$/, '')}`);
    const entry = join(assetDir, 'index.js');
    const environment: Record<string, string> = {};
    const references: Record<string, string> = {};
    for (const [name, value] of Object.entries(gatewayFunction.Properties.Environment?.Variables ?? {})) {
      if (typeof value === 'string') environment[name] = value;
      else if (typeof value === 'object' && value !== null && 'Ref' in value) references[name] = String((value as { Ref: unknown }).Ref);
    }
    return {
      entry,
      bytes: statSync(entry).size,
      handler: gatewayFunction.Properties.Handler ?? 'index.handler',
      environment,
      references,
      cleanup: () => rmSync(outdir, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(outdir, { recursive: true, force: true });
    throw error;
  }
}
