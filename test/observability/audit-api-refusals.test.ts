import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../../src/api/api-server.ts';
import { tokenFingerprint } from '../../src/api/auth.ts';
import { FleetView } from '../../src/api/fleet-view.ts';
import { attributeApiCalls } from '../../src/observability/api-call-attribution.ts';
import { formatAuditEntry, isRecordEntry, parseAuditEntry, type ApiCallAuditEntry } from '../../src/observability/audit-entry.ts';
import { AuditLog } from '../../src/observability/audit-log.ts';

/*
 * Regression (issue 12, failure 7): refused admin calls were not audited. The API's hook saw 403/400/413,
 * but attributeApiCalls dropped everything but 200/409, and a 401 (or a 405 to an acting path) never even
 * reached the hook; so the audit log — what docs/api.md promises holds every acting call whatever its
 * outcome — had no line for any of them. Here a real server on a real socket writes through the real hook
 * into an AuditLog, and every refusal kind must come out as a line, with a fingerprint, never a token.
 */

const READ = 'read-token-for-audit-tests-0123456789';
const ADMIN = 'admin-token-for-audit-tests-9876543210';
const UNKNOWN = 'no-such-token-for-audit-tests-55555';
const MAX_BODY = 64 * 1024; // the default

let api: ApiServer;
const lines: string[] = [];
const audit = new AuditLog({ sinks: [{ name: 'memory', write: async (batch) => void lines.push(...batch) }], flushAfterMs: 1 });

beforeAll(async () => {
  api = await startApiServer({
    view: new FleetView(), // not attached: an acting call that passes every check is 409 "not running yet"
    port: 0,
    tokens: { read: READ, admin: ADMIN },
    maxBodyBytes: MAX_BODY,
    audit: attributeApiCalls(audit),
  });
});
afterAll(async () => {
  await api?.close();
  await audit.close();
});

async function call(path: string, init: RequestInit & { token?: string }): Promise<number> {
  const { token, ...rest } = init;
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(rest.headers as Record<string, string>) };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${api.url}${path}`, { ...rest, headers });
  await response.arrayBuffer();
  return response.status;
}

/** The call entries written so far (flushed). */
async function callEntries(): Promise<ApiCallAuditEntry[]> {
  await audit.flush();
  return lines.map((line, i) => {
    const parsed = parseAuditEntry(line, `line ${i + 1}`);
    if (!parsed.ok) throw new Error(parsed.problem);
    if (isRecordEntry(parsed.entry)) throw new Error(`line ${i + 1}: expected a call entry`);
    return parsed.entry;
  });
}

const valid = JSON.stringify({ scope: 'fleet', id: '*', reason: 'manual' });
const admin = `api admin:${tokenFingerprint(ADMIN)}`;

describe('audit: every acting API call, refused before the handler or not', () => {
  it('writes one line per refusal kind with its status, reason and who (fingerprints only)', async () => {
    const statuses = [
      await call('/api/v1/stopouts', { method: 'POST', body: valid }), // no token
      await call('/api/v1/stopouts', { method: 'POST', body: valid, token: UNKNOWN }),
      await call('/api/v1/stopouts', { method: 'POST', body: valid, token: READ }),
      // The login cookie from another page of the same site.
      await call('/api/v1/stopouts', {
        method: 'POST',
        body: valid,
        headers: { cookie: `riskwarden_token=${ADMIN}`, origin: 'http://127.0.0.1:1' },
      }),
      await call('/api/v1/stopouts', { method: 'POST', body: '{not json', token: ADMIN }),
      await call('/api/v1/stopouts/reset', { method: 'POST', body: JSON.stringify({ scope: 'galaxy' }), token: ADMIN }),
      await call('/api/v1/start-time', {
        method: 'POST',
        body: JSON.stringify({ scope: 'fleet', id: '*', pad: 'x'.repeat(MAX_BODY) }),
        token: ADMIN,
      }),
      await call('/api/v1/stopouts/reset', { method: 'PUT', body: valid, token: ADMIN }),
      // Nested 30 000 deep: refused 400, and still written (the entry keeps a note, not the body).
      await call('/api/v1/stopouts', { method: 'POST', body: `${'['.repeat(30_000)}${']'.repeat(30_000)}`, token: ADMIN }),
      await call('/api/v1/stopouts', { method: 'POST', body: valid, token: ADMIN }), // passes: the view refuses
    ];
    expect(statuses).toEqual([401, 401, 403, 403, 400, 400, 413, 405, 400, 409]);
    // Reads are not acting calls.
    expect(await call('/api/v1/stopouts', { method: 'GET', token: READ })).toBe(200);

    const entries = await callEntries();
    expect(entries.map((e) => [e.who, e.call.action, e.call.status, e.call.result])).toEqual([
      ['api anonymous', 'set-stopout', 401, 'refused'],
      [`api unknown:${tokenFingerprint(UNKNOWN)}`, 'set-stopout', 401, 'refused'],
      [`api read:${tokenFingerprint(READ)}`, 'set-stopout', 403, 'refused'],
      [admin, 'set-stopout', 403, 'refused'],
      [admin, 'set-stopout', 400, 'refused'],
      [admin, 'reset-stopout', 400, 'refused'],
      [admin, 'move-start-time', 413, 'refused'],
      [admin, 'reset-stopout', 405, 'refused'],
      [admin, 'set-stopout', 400, 'refused'],
      [admin, 'set-stopout', 409, 'refused'],
    ]);
    expect(entries.map((e) => e.call.reason)).toEqual([
      expect.stringMatching(/a token is required/),
      expect.stringMatching(/unknown token/),
      expect.stringMatching(/needs an admin token/),
      expect.stringMatching(/cannot use the login cookie/),
      expect.stringMatching(/not valid JSON/),
      expect.stringMatching(/scope: expected one of/),
      expect.stringMatching(/larger than 65536 bytes/),
      expect.stringMatching(/method PUT not allowed/),
      expect.stringMatching(/expected a mapping/),
      'the fleet is not running yet',
    ]);
    // What was asked, when it was read; never a token anywhere in the log.
    expect(entries[5]!.call.request).toEqual({ scope: 'galaxy' });
    expect(entries[6]!.call.request).toBeNull();
    expect(entries[8]!.call.request).toBe('(not kept: too deeply nested to serialise)');
    expect(entries[9]!.call.request).toEqual({ scope: 'fleet', id: '*', reason: 'manual' });
    for (const line of lines) for (const token of [READ, ADMIN, UNKNOWN]) expect(line).not.toContain(token);
  });

  it('keeps a large body as a note of its size, and prints call lines for audit tail', async () => {
    const log: string[] = [];
    const small = new AuditLog({
      sinks: [{ name: 'memory', write: async (batch) => void log.push(...batch) }],
      now: () => Date.UTC(2026, 0, 5),
    });
    small.call(
      { action: 'set-stopout', status: 400, result: 'refused', reason: 'invalid', request: { pad: 'x'.repeat(5000) } },
      'api admin:1',
    );
    await small.close();
    const parsed = parseAuditEntry(log[0]!, 'line 1');
    if (!parsed.ok || isRecordEntry(parsed.entry)) throw new Error('expected a call entry');
    expect(parsed.entry.call.request).toBe('(not kept: 5010 characters of JSON)'); // {"pad":"…"}: 8 + 5000 + 2
    expect(formatAuditEntry(parsed.entry)).toBe('2026-01-05T00:00:00.000Z [api admin:1] api set-stopout: refused (HTTP 400): invalid');
  });
});
