import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer, listen, readBody } from '../../local/http-server';
import { checkSignature } from './sigv4-verifier';
import type { SignatureCheck } from './sigv4-verifier';

export interface IamDoor {
  /** Where a client points its endpoint, as it would at the API's invoke URL. */
  readonly url: string;
  /** Every check made, in arrival order. */
  readonly checks: SignatureCheck[];
  close(): Promise<void>;
}

/**
 * What the deployed API's IAM authorisation does before the Lambda sees a call: check the SigV4 signature of the
 * request exactly as it arrived, and that it is scoped to service execute-api; when either fails, answer 403 as the
 * stack's INVALID_SIGNATURE gateway response does; otherwise pass the call on unchanged.
 * Local mode itself accepts any signature, so tests of signing put this in front of it.
 */
export async function startIamDoor(target: string, credentials: { accessKeyId: string; secretAccessKey: string }): Promise<IamDoor> {
  const checks: SignatureCheck[] = [];
  const server = createServer((request, response) => {
    void (async () => {
      const body = (await readBody(request)) ?? '';
      const [path = '/', query = ''] = (request.url ?? '/').split('?');
      const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(',') : value]));
      const check = checkSignature({ method: request.method ?? 'GET', path, query, headers, body }, credentials.secretAccessKey);
      checks.push(check);
      // API Gateway checks the scope's service too: a signature for another service (an SDK's default) is refused.
      const wrongService = check.valid && check.scope?.service !== 'execute-api';
      if (!check.valid || check.accessKeyId !== credentials.accessKeyId || wrongService) {
        response.writeHead(403, { 'Content-Type': 'application/json', 'x-amzn-ErrorType': 'AccessDeniedException', 'x-amzn-RequestId': 'iam-door' });
        const message = wrongService
          ? `Credential should be scoped to correct service: 'execute-api', not '${check.scope?.service ?? ''}'.`
          : `The request signature we calculated does not match the signature you provided (${check.problem ?? 'unknown access key'}).`;
        response.end(JSON.stringify({ Type: 'AccessDeniedException', ReasonCode: 'INVALID_SIGNATURE', Message: message }));
        return;
      }
      const forwarded = await fetch(`${target}${request.url ?? '/'}`, {
        method: request.method ?? 'POST',
        headers: Object.fromEntries(Object.entries(headers).filter((entry): entry is [string, string] => entry[0] !== 'host' && entry[1] !== undefined)),
        // fetch refuses a body on GET, as HTTP gives it no meaning there.
        ...(request.method !== 'GET' && request.method !== 'HEAD' && { body }),
      });
      response.writeHead(forwarded.status, Object.fromEntries(forwarded.headers));
      response.end(await forwarded.text());
    })().catch((error: unknown) => {
      response.writeHead(502);
      response.end(String(error));
    });
  });
  await listen(server, 0, '127.0.0.1');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, checks, close: () => closeServer(server) };
}
