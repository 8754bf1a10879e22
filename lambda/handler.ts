import { loadConfig } from './config';
import { createGateway } from './gateway';

/** The Lambda entry point: configuration is read and checked once, at cold start. */
export const handler = createGateway(loadConfig());
