import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SigningKey, getAddress, keccak256, toUtf8Bytes } from 'ethers';
import type { Clock } from '../../src/clock/clock.ts';
import type { Eip712Venue } from '../../src/derivadex/crypto/eip712.ts';
import { PATHS } from '../../src/derivadex/paths.ts';
import { Exchange } from '../../src/sim/exchange.ts';
import { RateLimiter, type RateLimitConfig } from '../../src/sim/rate-limit.ts';
import { handleRequest, type GatewayOptions } from '../../src/sim/request-gateway.ts';

/*
 * The request gateway over a real socket, without the rest of the simulator's server: `POST /v2/request`
 * (the gateway's answer, bare) and `GET /v2/encryption-key` (the bare key string). For the sender's and
 * the gateway's own tests; test/sim/server.test.ts covers the same handler inside the full simulator.
 */

export interface GatewayServer {
  url: string;
  exchange: Exchange;
  venue: Eip712Venue;
  options: GatewayOptions;
  operatorPublicKey: string;
  /** Every answer's status, in order. */
  statuses: number[];
  close(): Promise<void>;
}

export const GATEWAY_VENUE: Eip712Venue = { chainId: 1337, verifyingContract: getAddress(`0x${'dd'.repeat(20)}`), decimals: 6 };

export async function startGateway(options: { clock: Clock; rateLimit?: RateLimitConfig | null }): Promise<GatewayServer> {
  const operatorSecretKey = keccak256(toUtf8Bytes('riskwarden-test-operator'));
  const operatorPublicKey = new SigningKey(operatorSecretKey).compressedPublicKey;
  const exchange = new Exchange({ clock: options.clock });
  const rateLimit = options.rateLimit ?? null;
  const gateway: GatewayOptions = {
    exchange,
    operatorSecretKey,
    venue: GATEWAY_VENUE,
    rateLimiter: rateLimit === null ? null : new RateLimiter(rateLimit, options.clock),
    clock: options.clock,
  };
  const statuses: number[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let status = 404;
      let body: unknown = { error_reason: 'InvalidRequestPayload', message: `no route ${req.method} ${req.url}` };
      if (req.method === 'POST' && req.url === PATHS.request) {
        const answer = handleRequest(gateway, new Uint8Array(Buffer.concat(chunks)));
        status = answer.status;
        body = answer.body;
      } else if (req.method === 'GET' && req.url === PATHS.encryptionKey) {
        status = 200;
        body = operatorPublicKey;
      }
      statuses.push(status);
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exchange,
    venue: GATEWAY_VENUE,
    options: gateway,
    operatorPublicKey,
    statuses,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
