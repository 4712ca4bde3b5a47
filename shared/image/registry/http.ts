// The HTTP side of a registry: the Registry HTTP API v2 (the OCI distribution spec)
// lives under https://<host>/v2/. Plain HTTP only for a registry on this machine
// (localhost, 127.0.0.0/8, ::1), as docker allows, or with --insecure. Each request:
//   - authenticates once the registry asks (a 401: shared/image/registry/auth.ts);
//   - follows redirects by hand (Docker Hub sends blobs from a CDN): each hop must be
//     HTTPS too, and the Authorization header stays with the registry's own host;
//   - retries twice when the connection fails (refused, reset), and gives up when no
//     answer comes within the timeout.
import { basicAuthorization, parseChallenge, tokenOf, tokenUrl } from './auth.ts';

export class RegistryError extends Error {}

/**
 * A small answer's body (a manifest, a token), read up to `limit` bytes: counted as it
 * comes, not taken from Content-Length, which a chunked answer has not.
 */
export async function readLimited(response: Response, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += chunk.byteLength;
    if (size > limit) break; // leaving the loop cancels the stream: the rest is not read
    chunks.push(Buffer.from(chunk));
  }
  if (size > limit) throw new RegistryError(`${what}: more than ${limit} bytes, too big`);
  return Buffer.concat(chunks);
}

export interface RegistryOptions {
  creds: string | undefined; // "user:password"
  insecure: boolean; // plain HTTP allowed anywhere
  timeoutMs: number;
}

const RETRIES = 2;
const MAX_TOKEN = 1024 * 1024; // a JSON object with a token: a few KiB
const parseJson = (bytes: Buffer): unknown => {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
};
const MAX_REDIRECTS = 5;

const isLoopback = (host: string) => host === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '[::1]';

/** A network failure's errno-like code ("ECONNREFUSED"), from fetch's TypeError. */
export function networkCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: string; name?: string } }).cause;
  return cause?.code ?? (error instanceof TypeError ? 'connection failed' : undefined);
}

export class Registry {
  readonly origin: string; // https://registry-1.docker.io
  private readonly options: RegistryOptions;
  private authorization: string | undefined;

  constructor(host: string, options: RegistryOptions) {
    this.options = options;
    const hostname = host.replace(/:\d+$/, '');
    const scheme = isLoopback(hostname) || options.insecure ? 'http' : 'https';
    this.origin = `${scheme}://${host === 'docker.io' ? 'registry-1.docker.io' : host}`;
  }

  /** GET /v2/<path>, authenticated as the registry asks. */
  async get(path: string, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
    const url = `${this.origin}/v2/${path}`;
    let response = await this.send(url, headers, signal);
    if (response.status === 401 && !this.authorization) {
      await response.body?.cancel();
      this.authorization = await this.authorize(response.headers.get('www-authenticate') ?? '');
      response = await this.send(url, headers, signal);
    }
    if (response.status === 401) {
      await response.body?.cancel();
      throw new RegistryError(
        `${url}: access denied ${this.options.creds ? '(a wrong user or password?)' : '(a private image? --creds user:password)'}`,
      );
    }
    return response;
  }

  private async authorize(header: string): Promise<string> {
    const challenge = parseChallenge(header);
    const { creds } = this.options;
    if (challenge.scheme === 'basic') {
      if (!creds) throw new RegistryError(`${this.origin} wants a user and password: --creds user:password`);
      return basicAuthorization(creds);
    }
    if (challenge.scheme !== 'bearer' || !challenge.params.realm)
      throw new RegistryError(`${this.origin}: an authentication this client does not know: ${header}`);
    const url = tokenUrl(challenge);
    const response = await this.send(url.href, creds ? { authorization: basicAuthorization(creds) } : {}, undefined, false);
    if (!response.ok) throw new RegistryError(`token from ${url.origin}${url.pathname}: ${response.status} ${response.statusText}`);
    const body = await readLimited(response, MAX_TOKEN, `token from ${url.origin}${url.pathname}`);
    const token = tokenOf(parseJson(body));
    if (!token) throw new RegistryError(`token from ${url.origin}${url.pathname}: no token in the answer`);
    return `Bearer ${token}`;
  }

  /** One request, its redirects followed, retried when the connection fails. */
  private async send(first: string, headers: Record<string, string>, signal?: AbortSignal, ours = true): Promise<Response> {
    let url = new URL(first);
    const origin = url.origin;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      this.checkScheme(url);
      const sameHost = ours && url.origin === this.origin;
      // The caller's credentials (--creds, for a token) go to the origin they were meant
      // for, never along a redirect to another.
      const { authorization, ...rest } = headers;
      const given = url.origin === origin ? headers : rest;
      const all = { ...given, ...(sameHost && this.authorization ? { authorization: this.authorization } : {}) };
      const response = await this.fetchRetrying(url, all, signal);
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) return response;
      await response.body?.cancel();
      url = new URL(location, url);
    }
    throw new RegistryError(`${first}: more than ${MAX_REDIRECTS} redirects`);
  }

  private checkScheme(url: URL): void {
    if (url.protocol === 'https:' || (url.protocol === 'http:' && (isLoopback(url.hostname) || this.options.insecure))) return;
    throw new RegistryError(`${url.origin}: plain HTTP to another machine (--insecure allows it)`);
  }

  private async fetchRetrying(url: URL, headers: Record<string, string>, signal?: AbortSignal): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      // The timeout runs until the answer's headers are in (a body has its own: blobs.ts).
      const late = new AbortController();
      const timer = setTimeout(() => late.abort(), this.options.timeoutMs);
      try {
        const all = signal ? AbortSignal.any([signal, late.signal]) : late.signal;
        return await fetch(url, { headers, redirect: 'manual', signal: all });
      } catch (error) {
        const code = late.signal.aborted ? `no answer within ${this.options.timeoutMs / 1000} s` : networkCode(error);
        if (!code) throw error;
        if (attempt === RETRIES || late.signal.aborted) throw new RegistryError(`${url.origin}${url.pathname}: ${code}`);
        await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempt));
      } finally {
        clearTimeout(timer);
      }
    }
  }
}
