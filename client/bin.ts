#!/usr/bin/env node
// The `transfer-contact` command. Built to dist/bin.js at pack time (tsc keeps this line), so it runs on plain Node.
import { main } from './cli';

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
