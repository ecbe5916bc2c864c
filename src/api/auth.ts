import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/**
 * Bearer tokens of the HTTP API. Two roles: `read` (every GET and the live socket) and `admin`
 * (everything, including stopouts and startTime). Tokens come from the environment — by default
 * RISKWARDEN_API_READ_TOKEN and RISKWARDEN_API_ADMIN_TOKEN, names a fleet config may change under
 * `api.tokensEnv` — and never from files. A request carries its token as `Authorization: Bearer <t>`,
 * or (a browser) as the `riskwarden_token` cookie that `GET /?token=<t>` sets, or (the WebSocket) as
 * `?token=<t>` on the URL.
 */
export type ApiRole = 'read' | 'admin';

export interface ApiTokens {
  read?: string;
  admin?: string;
}

export const DEFAULT_TOKEN_ENV = { read: 'RISKWARDEN_API_READ_TOKEN', admin: 'RISKWARDEN_API_ADMIN_TOKEN' } as const;

export const TOKEN_COOKIE = 'riskwarden_token';

/** Who made a request: the role and the token's fingerprint (never the token). */
export interface ApiCaller {
  role: ApiRole;
  /** `<role>:<first 8 hex of sha256(token)>`, e.g. `admin:3f2a09c1`. */
  who: string;
}

/** The API cannot start as configured (no tokens on a non-loopback address). */
export class ApiConfigError extends Error {}

/** The tokens the environment holds under the configured (or default) names; empty values count as unset. */
export function tokensFromEnv(
  env: Record<string, string | undefined>,
  names: { read?: string | undefined; admin?: string | undefined } = {},
): ApiTokens {
  const read = env[names.read ?? DEFAULT_TOKEN_ENV.read];
  const admin = env[names.admin ?? DEFAULT_TOKEN_ENV.admin];
  return { ...(read ? { read } : {}), ...(admin ? { admin } : {}) };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Equality of two secrets in time that depends on neither their contents nor their lengths: both are
 * hashed to 32 bytes first, and the digests are compared with crypto.timingSafeEqual.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

/** First 8 hex digits of sha256(token): names a token in audit entries without revealing it. */
export function tokenFingerprint(token: string): string {
  return sha256(token).toString('hex').slice(0, 8);
}

/** 127.0.0.0/8, ::1, ::ffff:127.x and `localhost`: where a generated token is acceptable. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

/** A fresh random admin token (43 base64url characters, 256 bits). */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The tokens to serve with. With none configured, the API refuses to start unless it listens on
 * loopback; there it makes up an admin token for this run (`generated`), for the caller to print once.
 */
export function effectiveTokens(
  tokens: ApiTokens,
  host: string,
  names: { read?: string | undefined; admin?: string | undefined } = {},
): { tokens: ApiTokens; generated?: string } {
  if (tokens.read || tokens.admin) return { tokens };
  if (!isLoopbackHost(host)) {
    const admin = names.admin ?? DEFAULT_TOKEN_ENV.admin;
    const read = names.read ?? DEFAULT_TOKEN_ENV.read;
    throw new ApiConfigError(`the API on ${host} needs tokens: set ${admin} and/or ${read}, or listen on 127.0.0.1`);
  }
  const generated = generateToken();
  return { tokens: { admin: generated }, generated };
}

/** A token and where the request carried it. */
export interface Credential {
  token: string;
  via: 'header' | 'cookie' | 'query';
}

/**
 * The token a request carries: the Authorization header (a malformed one counts as an empty token), else
 * the cookie, else (where allowed: pass `query`) `?token=`.
 */
export function requestCredential(req: IncomingMessage, query?: URLSearchParams): Credential | undefined {
  const authorization = req.headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return { token: match ? match[1]! : '', via: 'header' };
  }
  const cookie = cookieValue(req.headers.cookie, TOKEN_COOKIE);
  if (cookie !== undefined) return { token: cookie, via: 'cookie' };
  const token = query?.get('token');
  return token === null || token === undefined ? undefined : { token, via: 'query' };
}

export function requestToken(req: IncomingMessage, query?: URLSearchParams): string | undefined {
  return requestCredential(req, query)?.token;
}

/**
 * Why a request that authenticates with the cookie must be refused as coming from another page, or
 * undefined. A browser sends the cookie with requests other pages of the same site (another port of
 * 127.0.0.1 is the same site) make: those must not act, nor open the live socket. Browsers say where a
 * request comes from (Origin, Sec-Fetch-Site); tools that send neither use the Authorization header.
 */
export function crossOriginProblem(req: IncomingMessage): string | undefined {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return `a ${site} request cannot use the login cookie`;
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  let host: string | undefined;
  try {
    host = new URL(origin).host;
  } catch {
    host = undefined;
  }
  return host !== undefined && host === req.headers.host
    ? undefined
    : `a request from ${JSON.stringify(origin)} cannot use the login cookie`;
}

/** The value of cookie `name` in a Cookie header (URI-decoded), or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }
  return undefined;
}

/** The Set-Cookie header value that logs a browser in. */
export function tokenCookie(token: string): string {
  return `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
}

/**
 * Checks tokens against the configured ones. Every check hashes the candidate and compares it with both
 * roles' digests (an unset role gets a random digest nothing matches), so the time taken says nothing
 * about which role or how much of a token matched.
 */
export class ApiAuth {
  readonly #admin: Buffer;
  readonly #read: Buffer;

  constructor(tokens: ApiTokens) {
    this.#admin = tokens.admin ? sha256(tokens.admin) : randomBytes(32);
    this.#read = tokens.read ? sha256(tokens.read) : randomBytes(32);
  }

  /** The role of `token`, or undefined for no or an unknown token. */
  roleOf(token: string | undefined): ApiRole | undefined {
    if (token === undefined || token === '') return undefined;
    const digest = sha256(token);
    const admin = timingSafeEqual(digest, this.#admin);
    const read = timingSafeEqual(digest, this.#read);
    return admin ? 'admin' : read ? 'read' : undefined;
  }

  /** The caller of a request with a valid token, or undefined. */
  caller(token: string | undefined): ApiCaller | undefined {
    const role = this.roleOf(token);
    return role && token ? { role, who: `${role}:${tokenFingerprint(token)}` } : undefined;
  }
}

/** Whether `role` may use something that needs `needed`. */
export function allows(role: ApiRole, needed: ApiRole): boolean {
  return role === 'admin' || needed === 'read';
}
