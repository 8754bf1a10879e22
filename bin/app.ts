#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigurationError } from '../lambda/config';
import { ContactTransferGatewayStack } from '../lib/contact-transfer-gateway-stack';
import { ContextError, parseGatewayContext } from '../lib/context';
import type { GatewaySettings } from '../lib/context';

const app = new App();

let settings: GatewaySettings;
try {
  settings = parseGatewayContext((key) => app.node.tryGetContext(key));
} catch (error) {
  exitWithOneLine(error);
}

try {
  new ContactTransferGatewayStack(app, 'ContactTransferGateway', {
    description: `Contact transfer gateway for Amazon Connect instance ${settings.connectInstance.arn}`,
    // The function calls Connect with its own role, so it lives in the instance's account; the instance's Region
    // keeps every Connect call local. A concrete env also keeps synth free of account lookups.
    env: { account: settings.connectInstance.account, region: settings.connectInstance.region },
    gateway: settings,
  });
} catch (error) {
  exitWithOneLine(error);
}

// cdk-nag v3 runs as a policy validation plugin at synth; acknowledgements with reasons live next to the resources.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

/** A configuration mistake is the user's to fix: one line saying how, not a stack trace. */
function exitWithOneLine(error: unknown): never {
  if (error instanceof ContextError || error instanceof ConfigurationError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
