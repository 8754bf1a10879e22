import type { IncomingMessage, Server } from 'node:http';

/** Small pieces every local server here needs: the simulator, the embedded DynamoDB and local mode. */

/** Resolves once listening; a taken port rejects with Node's EADDRINUSE error for the caller to word. */
export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Closes idle and open connections too, so a stop never waits for a keep-alive client. */
export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** The body as text; undefined when it exceeds `maxBytes` (the rest is drained, not kept). */
export function readBody(request: IncomingMessage, maxBytes = Number.POSITIVE_INFINITY): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size <= maxBytes) chunks.push(chunk);
    });
    request.on('end', () => resolve(size > maxBytes ? undefined : Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}
