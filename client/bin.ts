#!/usr/bin/env node
// The `transfer-contact` command. Built to dist/bin.js at pack time (tsc keeps this line), so it runs on plain Node.
import { main } from './cli';

// On Node 20 the AWS SDK warns, once per process, that its releases after early January 2027 need Node 22. The
// command's stderr carries its error JSON, which the warning would break; an app that wants it sees it in its own code.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
}).then(
  (code) => {
    // exitCode rather than exit(): lets stdout drain when it is a pipe.
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
