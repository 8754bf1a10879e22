#!/usr/bin/env node
// The `cancel-contact-transfer-schedule` command, built to dist/cancel-schedule-bin.js at pack time like transfer-contact.
import { runFromProcess } from './cli';
import { cancelScheduleMain } from './schedule-cli';

runFromProcess(cancelScheduleMain);
