#!/usr/bin/env node
// The `transfer-contact` command. Built to dist/bin.js at pack time (tsc keeps this line), so it runs on plain Node.
import { main, runFromProcess } from './cli';

runFromProcess(main);
