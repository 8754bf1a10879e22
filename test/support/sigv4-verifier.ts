import { createHash, createHmac } from 'node:crypto';

/**
 * An independent SigV4 check, written from AWS's description of the algorithm rather than with the SDK's signer,
 * so that a test of the client's signing is not the signer checking itself. Covers what the client sends: a query
 * string (canonicalised: each name and value RFC 3986-encoded, sorted), a path of unreserved characters, one value
 * per header.
 */
export interface SignedRequest {
  readonly method: string;
  readonly path: string;
  readonly query?: string;
  /** Header names in lower case, as node's IncomingMessage gives them. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
}

export interface SignatureCheck {
  readonly valid: boolean;
  readonly problem?: string;
  readonly accessKeyId?: string;
  readonly scope?: { date: string; region: string; service: string };
  readonly signedHeaders?: readonly string[];
}

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

export function checkSignature(request: SignedRequest, secretAccessKey: string): SignatureCheck {
  const authorization = request.headers.authorization;
  const match = authorization ? AUTHORIZATION.exec(authorization) : null;
  if (!match) return { valid: false, problem: `Authorization is not a SigV4 header: ${authorization ?? '(none)'}` };
  const [, accessKeyId = '', date = '', region = '', service = '', signedHeaderList = '', signature = ''] = match;
  const signedHeaders = signedHeaderList.split(';');
  const amzDate = request.headers['x-amz-date'];
  if (!amzDate?.startsWith(date)) return { valid: false, problem: `X-Amz-Date ${amzDate ?? '(none)'} does not match the scope date ${date}` };
  for (const required of ['host', 'x-amz-date']) {
    if (!signedHeaders.includes(required)) return { valid: false, problem: `${required} is not signed` };
  }
  const missing = signedHeaders.find((name) => request.headers[name] === undefined);
  if (missing) return { valid: false, problem: `signed header ${missing} did not arrive` };

  const payloadHash = request.headers['x-amz-content-sha256'] ?? sha256(request.body);
  const canonicalRequest = [
    request.method,
    request.path,
    canonicalQuery(request.query ?? ''),
    ...signedHeaders.map((name) => `${name}:${(request.headers[name] ?? '').trim().replace(/\s+/g, ' ')}`),
    '',
    signedHeaderList,
    payloadHash,
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const signingKey = [date, region, service, 'aws4_request'].reduce<Buffer>((key, part) => hmac(key, part), Buffer.from(`AWS4${secretAccessKey}`));
  const expected = createHmac('sha256', signingKey).update(stringToSign).digest('hex');
  const result = { accessKeyId, scope: { date, region, service }, signedHeaders };
  return expected === signature ? { valid: true, ...result } : { valid: false, problem: 'the signature does not match', ...result };
}

/** AWS's rule: decode what arrived, encode every byte but A-Z a-z 0-9 - _ . ~ as %XX, sort by name then value. */
function canonicalQuery(query: string): string {
  if (query === '') return '';
  const encode = (text: string): string =>
    encodeURIComponent(text).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
  const decode = (text: string): string => decodeURIComponent(text.replace(/\+/g, ' '));
  return query
    .split('&')
    .map((pair) => {
      const [name = '', value = ''] = pair.split('=');
      return [encode(decode(name)), encode(decode(value))] as const;
    })
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function hmac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text).digest();
}
