import { CfnOutput, Stack } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ContactTransferGateway } from './contact-transfer-gateway';
import type { ContactTransferGatewayProps } from './contact-transfer-gateway';

export interface ContactTransferGatewayStackProps extends StackProps {
  readonly gateway: ContactTransferGatewayProps;
}

/** A thin stack: the gateway construct and the outputs an operator needs after `cdk deploy`. */
export class ContactTransferGatewayStack extends Stack {
  readonly gateway: ContactTransferGateway;

  constructor(scope: Construct, id: string, props: ContactTransferGatewayStackProps) {
    super(scope, id, props);
    this.gateway = new ContactTransferGateway(this, 'Gateway', props.gateway);
    const { gateway } = this;

    new CfnOutput(this, 'ApiUrl', { description: 'POST target of the HTTPS door (SigV4, service execute-api)', value: gateway.transferUrl });
    new CfnOutput(this, 'FunctionName', { value: gateway.gatewayFunction.functionName });
    new CfnOutput(this, 'IdempotencyTableName', { value: gateway.idempotencyTable.tableName });
    new CfnOutput(this, 'LedgerTableName', { value: gateway.ledgerTable.tableName });
    new CfnOutput(this, 'DeadLetterQueueUrl', { description: 'Failed EventBridge transfers', value: gateway.deadLetterQueue.queueUrl });
  }
}
