#!/usr/bin/env node
// The `list-contact-transfers` command, built to dist/list-bin.js at pack time like the transfer-contact command.
import { listMain } from './list-cli';

// As in bin.ts: stderr carries the error JSON, which the SDK's Node 20 notice would break.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

listMain(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
