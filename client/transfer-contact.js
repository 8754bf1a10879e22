#!/usr/bin/env node
// The command is TypeScript like the rest of the client; tsx compiles it as it loads, so there is no build step.
require('tsx/cjs/api').register();
require('./bin.ts');
