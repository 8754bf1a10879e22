import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer, listen, readBody } from '../../simulator/http-server';
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
 * request exactly as it arrived and, when it does not hold, answer 403 as the stack's INVALID_SIGNATURE gateway
 * response does; otherwise pass the call on unchanged.
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
      if (!check.valid || check.accessKeyId !== credentials.accessKeyId) {
        response.writeHead(403, { 'Content-Type': 'application/json', 'x-amzn-ErrorType': 'AccessDeniedException', 'x-amzn-RequestId': 'iam-door' });
        const message = `The request signature we calculated does not match the signature you provided (${check.problem ?? 'unknown access key'}).`;
        response.end(JSON.stringify({ Type: 'AccessDeniedException', Reason: 'INVALID_SIGNATURE', Message: message }));
        return;
      }
      const forwarded = await fetch(`${target}${request.url ?? '/'}`, {
        method: request.method ?? 'POST',
        headers: Object.fromEntries(Object.entries(headers).filter((entry): entry is [string, string] => entry[0] !== 'host' && entry[1] !== undefined)),
        body,
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
