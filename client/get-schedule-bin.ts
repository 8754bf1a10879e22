#!/usr/bin/env node
// The `get-contact-transfer-schedule` command, built to dist/get-schedule-bin.js at pack time like transfer-contact.
import { runFromProcess } from './cli';
import { getScheduleMain } from './schedule-cli';

runFromProcess(getScheduleMain);
