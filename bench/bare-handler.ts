/**
 * The baseline the gateway is measured against: a Lambda handler that does nothing but call TransferContact with
 * what it was given. Bundled with the gateway's own esbuild options, so both load the same way.
 */
import { ConnectClient, TransferContactCommand } from '@aws-sdk/client-connect';
import type { TransferContactCommandInput, TransferContactCommandOutput } from '@aws-sdk/client-connect';

const connect = new ConnectClient({ region: process.env.AWS_REGION });

export const handler = (event: TransferContactCommandInput): Promise<TransferContactCommandOutput> => connect.send(new TransferContactCommand(event));
