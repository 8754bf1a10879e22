#!/usr/bin/env node
// The `schedule-contact-transfer` command, built to dist/schedule-bin.js at pack time like transfer-contact.
import { runFromProcess } from './cli';
import { scheduleMain } from './schedule-cli';

runFromProcess(scheduleMain);
