// How a registry says who may read: its first answer is "401 Unauthorized" with
//   WWW-Authenticate: Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"
// (Docker Hub's token flow: ask `realm` for a token for that service and scope, as
// nobody or with a user's password, then send it as "Authorization: Bearer <token>"), or
//   WWW-Authenticate: Basic realm="..."
// (send the user and password with every request, base64'd: "Authorization: Basic ...").

interface Challenge {
  scheme: string; // "bearer" or "basic", lowercased
  params: Record<string, string>; // realm, service, scope
}

/** `Bearer realm="...",service="...",scope="..."` as its scheme and parameters. */
export function parseChallenge(header: string): Challenge {
  const space = header.indexOf(' ');
  const scheme = (space === -1 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  // key="value" (quoted values may hold commas: a scope of several repositories) or key=token
  for (const [, key, quoted, bare] of header.slice(space + 1).matchAll(/(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[key!.toLowerCase()] = quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : bare!;
  }
  return { scheme, params };
}

/** "user:password" as a Basic Authorization header. */
export function basicAuthorization(creds: string): string {
  return `Basic ${Buffer.from(creds).toString('base64')}`;
}

/** Where to ask for a token: the realm, with the service and scope it named. */
export function tokenUrl({ params }: Challenge): URL {
  const url = new URL(params.realm ?? '');
  if (params.service) url.searchParams.set('service', params.service);
  if (params.scope) url.searchParams.set('scope', params.scope);
  return url;
}

/** The token in a token server's answer: "token" (Docker's name) or "access_token" (OAuth's). */
export function tokenOf(answer: unknown): string | undefined {
  const { token, access_token } = (answer ?? {}) as { token?: unknown; access_token?: unknown };
  const found = token ?? access_token;
  return typeof found === 'string' && found !== '' ? found : undefined;
}
