/**
 * The function under measurement, in a process of its own: the Connect simulator and DynamoDB stay in the
 * parent, as remote services would, so their CPU time and memory are not counted as the gateway's.
 * Forked by run.ts with the function's environment plus BENCH_ENTRY (the deployed bundle).
 */
import { createRequire } from 'node:module';
import { ConnectClient, TransferContactCommand } from '@aws-sdk/client-connect';
import { apiGatewayProxyEvent, lambdaContext } from '../local/lambda-events';

export type WorkerRequest =
  | { readonly op: 'gateway'; readonly body: Record<string, unknown> }
  | { readonly op: 'bare'; readonly body: Record<string, string> }
  | { readonly op: 'memory' };
export type WorkerReply = { readonly ms: number; readonly cpuMs: number } | { readonly heapUsedBytes: number; readonly rssBytes: number } | { readonly error: string };

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number; body: string }>;
const { handler } = createRequire(__filename)(process.env.BENCH_ENTRY ?? '') as { handler: Handler };
// What a caller without the gateway would run: one TransferContact, nothing else.
const bare = new ConnectClient({ region: process.env.AWS_REGION });

async function serve(request: WorkerRequest): Promise<WorkerReply> {
  if (request.op === 'memory') {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    gc?.();
    const usage = process.memoryUsage();
    return { heapUsedBytes: usage.heapUsed, rssBytes: usage.rss };
  }
  const started = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  if (request.op === 'bare') {
    const { InstanceId = '', ContactId = '', ContactFlowId = '', ...rest } = request.body;
    await bare.send(new TransferContactCommand({ InstanceId, ContactId, ContactFlowId, ...rest }));
  } else {
    const result = await handler(apiGatewayProxyEvent({ body: JSON.stringify(request.body) }), lambdaContext());
    if (result.statusCode !== 200) return { error: `gateway answered ${result.statusCode}: ${result.body}` };
  }
  const cpu = process.cpuUsage(cpuBefore);
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, cpuMs: (cpu.user + cpu.system) / 1000 };
}

process.on('message', (request: WorkerRequest) => {
  serve(request).then(
    (reply) => process.send?.(reply),
    (error: unknown) => process.send?.({ error: error instanceof Error ? error.message : String(error) }),
  );
});
