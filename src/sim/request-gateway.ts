import { getAddress } from 'ethers';
import { EncryptionError, decryptRequest } from '../derivadex/crypto/encryption.ts';
import {
  SigningInputError,
  orderHash as computeOrderHash,
  recoverCancelAllSigner,
  recoverCancelSigner,
  recoverOrderSigner,
  type Eip712Venue,
} from '../derivadex/crypto/eip712.ts';
import { parseRequest } from '../derivadex/crypto/request.ts';
import { ScalingError } from '../derivadex/crypto/scaling.ts';
import type { RequestReceipt } from '../venue/protocol.ts';
import { ExchangeError, type Exchange, type ExchangeRequest } from './exchange.ts';
import type { RateLimiter } from './rate-limit.ts';

/**
 * `POST /v2/request` up to the receipt: decrypt with the operator key → parse → verify the EIP-712
 * signature → nonce replay check → rate limit → sequence. Each step fails with its documented error:
 *
 * | step | failure | HTTP |
 * |---|---|---|
 * | decrypt | not our wire format, wrong key, altered bytes | 422 InvalidEncryption |
 * | parse | not a valid Order / CancelOrder / CancelAll | 400 InvalidRequestPayload |
 * | signature | does not recover `traderAddress` (orders), or is not a signature | 422 SafetyFailure |
 * | nonce | the trader already used it | 412 IllegalNonce |
 * | rate limit | the trader's token bucket is empty | 429 RateLimit |
 * | sequence | the exchange's request-level checks (tick, size, notional, open-order cap…) | 400 / 422 |
 *
 * Cancels carry no trader address: the signer they recover to is the trader, so a cancel signed by the
 * wrong key is refused as an unknown order (422 SafetyFailure). The body is the wire bytes
 * (application/octet-stream); a body that is exactly `0x` + hex text is accepted too and hex-decoded.
 */
export interface GatewayOptions {
  exchange: Exchange;
  operatorSecretKey: string;
  venue: Eip712Venue;
  rateLimiter: RateLimiter | null;
}

export type GatewayResult = { ok: true; receipt: RequestReceipt } | { ok: false; error: ExchangeError };

const HEX_BODY = /^0x(?:[0-9a-fA-F]{2})*$/;

export function wireBytes(body: Uint8Array): Uint8Array {
  if (body.length >= 2 && body[0] === 0x30 && (body[1] === 0x78 || body[1] === 0x58)) {
    const text = Buffer.from(body).toString('latin1').trim();
    if (HEX_BODY.test(text)) return Uint8Array.from(Buffer.from(text.slice(2), 'hex'));
  }
  return body;
}

export function handleRequest(options: GatewayOptions, body: Uint8Array): GatewayResult {
  try {
    return { ok: true, receipt: sequence(options, body) };
  } catch (error) {
    if (error instanceof ExchangeError) return { ok: false, error };
    throw error;
  }
}

function sequence(options: GatewayOptions, body: Uint8Array): RequestReceipt {
  const { exchange, venue } = options;
  let json: string;
  try {
    json = decryptRequest(wireBytes(body), options.operatorSecretKey).json;
  } catch (error) {
    if (error instanceof EncryptionError) throw new ExchangeError('InvalidEncryption', `${error.code}: ${error.message}`);
    throw error;
  }
  const parsed = parseRequest(json, { decimals: venue.decimals });
  if (!parsed.ok) throw new ExchangeError('InvalidRequestPayload', parsed.error.message);
  const { request } = parsed;

  let exchangeRequest: ExchangeRequest;
  try {
    switch (request.t) {
      case 'Order': {
        const c = request.c;
        const signer = recoverOrderSigner(c, c.signature, venue);
        if (getAddress(signer) !== getAddress(c.traderAddress)) {
          throw new ExchangeError('SafetyFailure', `signature recovers ${signer}, not traderAddress ${c.traderAddress}`);
        }
        if (c.stopPrice !== '0')
          throw new ExchangeError('InvalidRequestPayload', 'c.stopPrice: the venue has no stop orders; expected "0"');
        exchangeRequest = {
          kind: 'Order',
          trader: signer,
          strategyId: c.strategy,
          symbol: c.symbol,
          side: c.side === 'Bid' ? 0 : 1,
          orderType: c.orderType === 'Limit' ? 0 : 1,
          amount: c.amount,
          price: c.price,
          nonce: c.nonce,
          orderHash: computeOrderHash(c, venue),
        };
        break;
      }
      case 'CancelOrder': {
        const c = request.c;
        exchangeRequest = {
          kind: 'CancelOrder',
          trader: recoverCancelSigner(c, c.signature, venue),
          symbol: c.symbol,
          orderHash: c.orderHash,
          nonce: c.nonce,
        };
        break;
      }
      case 'CancelAll': {
        const c = request.c;
        exchangeRequest = {
          kind: 'CancelAll',
          trader: recoverCancelAllSigner(c, c.signature, venue),
          strategyId: c.strategy,
          symbol: c.symbol,
          nonce: c.nonce,
        };
        break;
      }
    }
  } catch (error) {
    if (error instanceof SigningInputError) throw new ExchangeError('SafetyFailure', `signature: ${error.message}`);
    if (error instanceof ScalingError) throw new ExchangeError('InvalidRequestPayload', error.message);
    throw error;
  }

  if (exchange.nonceUsed(exchangeRequest.trader, exchangeRequest.nonce)) {
    throw new ExchangeError('IllegalNonce', `nonce ${exchangeRequest.nonce} was already used by ${exchangeRequest.trader}`);
  }
  if (options.rateLimiter !== null && !options.rateLimiter.take(exchangeRequest.trader)) {
    throw new ExchangeError('RateLimit', `too many requests from ${exchangeRequest.trader}`);
  }
  return exchange.submit(exchangeRequest);
}
