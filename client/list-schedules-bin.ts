#!/usr/bin/env node
// The `list-contact-transfer-schedules` command, built to dist/list-schedules-bin.js at pack time like transfer-contact.
import { runFromProcess } from './cli';
import { listSchedulesMain } from './schedule-cli';

runFromProcess(listSchedulesMain);
