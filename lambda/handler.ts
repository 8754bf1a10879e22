import { loadConfig } from './config';
import { createGateway, createGatewayClients } from './gateway';

/**
 * The Lambda entry points, and the only place the function reads its environment: configuration is read and checked
 * once, at cold start, and the SDK clients take endpoints, Region and credentials from it as Lambda provides them.
 * Two functions run this bundle: `handler`, invoked by API Gateway, the event source mappings and the sweep schedule
 * alone, and `invoke`, the direct-invocation function that callers are granted (contract section 3.3).
 */
const config = loadConfig();
const gateway = createGateway(config, createGatewayClients(config));
export const handler = gateway.service;
export const invoke = gateway.direct;
