import { CfnOutput, Fn, Stack } from 'aws-cdk-lib';
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

    // The base URL is what clients take (they add the routes); the route's own URL is for curl, named so that nobody
    // passes it as an endpoint.
    new CfnOutput(this, 'ApiEndpoint', {
      description: 'The API base URL with its stage: the endpoint to give the client, transfer-contact --endpoint, or an AWS SDK Connect client (SigV4, service execute-api)',
      value: gateway.apiEndpoint,
    });
    new CfnOutput(this, 'TransferUrl', {
      description: 'Full URL of POST /contact/transfer, for curl and other raw HTTP callers; not an endpoint for the client or SDKs',
      value: gateway.transferUrl,
    });
    new CfnOutput(this, 'TransferInvokeArn', { description: 'The execute-api:Invoke resource a caller\'s identity policy allows for transfers', value: gateway.transferInvokeArn });
    new CfnOutput(this, 'HistoryInvokeArn', { description: 'The execute-api:Invoke resource a caller\'s identity policy allows for reading the history', value: gateway.historyInvokeArn });
    new CfnOutput(this, 'ScheduleCreateInvokeArn', { description: 'The execute-api:Invoke resource a caller\'s identity policy allows for scheduling transfers', value: gateway.scheduleInvokeArns.create });
    new CfnOutput(this, 'ScheduleReadInvokeArns', {
      description: 'The execute-api:Invoke resources a caller\'s identity policy allows for reading schedules (a contact\'s, and one), comma-separated',
      value: Fn.join(',', [...gateway.scheduleInvokeArns.read]),
    });
    new CfnOutput(this, 'ScheduleCancelInvokeArn', { description: 'The execute-api:Invoke resource a caller\'s identity policy allows for cancelling schedules', value: gateway.scheduleInvokeArns.cancel });
    new CfnOutput(this, 'FunctionName', { description: 'The function behind the API and the event buffer; only those AWS services invoke it', value: gateway.gatewayFunction.functionName });
    new CfnOutput(this, 'DirectFunctionName', {
      description: 'The direct-invocation function (contract section 3.3): grant callers lambda:InvokeFunction on this one',
      value: gateway.directFunction.functionName,
    });
    new CfnOutput(this, 'IdempotencyTableName', { value: gateway.idempotencyTable.tableName });
    new CfnOutput(this, 'LedgerTableName', { value: gateway.ledgerTable.tableName });
    new CfnOutput(this, 'DeadLetterQueueUrl', { description: 'Dead-lettered event-door requests the dead-letter door could not answer yet', value: gateway.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'UndeliveredTransferEventsUrl', { description: 'Stream records the transfer event pipes could not publish', value: gateway.undeliveredTransferEvents.queueUrl });
    new CfnOutput(this, 'SchedulesTableName', { value: gateway.schedules.table.tableName });
    new CfnOutput(this, 'ScheduleGroupName', { description: 'The EventBridge Scheduler group holding the scheduled transfers still to fire', value: gateway.schedules.scheduleGroup.scheduleGroupName });
    new CfnOutput(this, 'ScheduleDeadLetterQueueUrl', { description: 'Fired schedules EventBridge Scheduler could not deliver to the event buffer', value: gateway.schedules.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'EventBufferUrl', { description: 'The event door\'s buffer: its depth is the backlog of a burst', value: gateway.eventBuffer.queueUrl });
  }
}
