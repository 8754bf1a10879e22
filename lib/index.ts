/**
 * The construct package's entry (construct/package.json): the gateway construct, its props and the parsing of CDK
 * context into them, the thin stack this repository deploys, and the settings table every default comes from.
 */
export { ContactTransferGateway } from './contact-transfer-gateway';
export type { ContactTransferGatewayProps, ScheduleInvokeArns } from './contact-transfer-gateway';
export { ContactTransferGatewayStack } from './contact-transfer-gateway-stack';
export type { ContactTransferGatewayStackProps } from './contact-transfer-gateway-stack';
export type { GatewaySettings, GatewaySettingsProps } from './gateway-props';
export { ContextError, GatewayPropError, parseGatewayContext } from './context';
export type { ContextSource } from './context';
export { GatewayMonitoring } from './gateway-monitoring';
export type { GatewayMonitoringProps, ScheduleDelivery } from './gateway-monitoring';
export { SETTINGS } from '../lambda/settings';
export type { Kind, Setting } from '../lambda/settings';
