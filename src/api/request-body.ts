import type { IncomingMessage } from 'node:http';

/** The largest JSON body the API reads (64 KiB); a larger one is answered 413. */
export const MAX_BODY_BYTES = 64 * 1024;

export type BodyResult = { ok: true; value: unknown } | { ok: false; status: 400 | 413; error: string; problems?: string[] };

/**
 * Reads a request body of at most `maxBytes` and parses it as JSON. Stops reading as soon as the body is
 * too large (declared or actual) — the caller answers 413 and closes the connection. An empty body is
 * `undefined`, which the request schemas then report as required.
 */
export function readJsonBody(req: IncomingMessage, maxBytes: number = MAX_BODY_BYTES): Promise<BodyResult> {
  const tooLarge: BodyResult = { ok: false, status: 413, error: `request body larger than ${maxBytes} bytes` };
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) return Promise.resolve(tooLarge);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: BodyResult): void => {
      if (done) return;
      done = true;
      req.off('data', onData);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        req.pause();
        finish(tooLarge);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('error', (error) => finish({ ok: false, status: 400, error: `request body could not be read: ${error.message}` }));
    req.once('aborted', () => finish({ ok: false, status: 400, error: 'request aborted' }));
    req.once('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') {
        finish({ ok: true, value: undefined });
        return;
      }
      try {
        finish({ ok: true, value: JSON.parse(text) as unknown });
      } catch (error) {
        finish({ ok: false, status: 400, error: 'request body is not valid JSON', problems: [`(body): ${(error as Error).message}`] });
      }
    });
  });
}
