/**
 * `node --import tsx bench/synthesize.ts TREE INSTANCE_ARN OUTDIR`: the gateway function as TREE's own code deploys
 * it (its CDK app, its esbuild options), copied to OUTDIR with its template environment in OUTDIR/environment.json.
 * compare.ts runs it once per tree, each in a process of its own, so two versions of the code never share a process.
 */
import { cpSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { DeployedFunction } from '../test/support/deployed-artifact';

const [tree = '', instanceArn = '', outdir = ''] = process.argv.slice(2);
const { synthesizeDeployedFunction } = createRequire(__filename)(join(resolve(tree), 'test', 'support', 'deployed-artifact')) as {
  synthesizeDeployedFunction: (connectInstanceArn: string) => DeployedFunction;
};
const artifact = synthesizeDeployedFunction(instanceArn);
try {
  cpSync(dirname(artifact.entry), outdir, { recursive: true });
  writeFileSync(join(outdir, 'environment.json'), JSON.stringify(artifact.environment));
} finally {
  artifact.cleanup();
}
