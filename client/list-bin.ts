#!/usr/bin/env node
// The `list-contact-transfers` command, built to dist/list-bin.js at pack time like transfer-contact.
import { runFromProcess } from './cli';
import { listMain } from './list-cli';

runFromProcess(listMain);
