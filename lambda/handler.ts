import { loadConfig } from './config';
import { createGateway, createGatewayClients } from './gateway';

/**
 * The Lambda entry point, and the only place the function reads its environment: configuration is read and checked
 * once, at cold start, and the SDK clients take endpoints, Region and credentials from it as Lambda provides them.
 */
const config = loadConfig();
export const handler = createGateway(config, createGatewayClients(config));
