import { SignTypedDataVersion, TypedDataUtils, recoverTypedSignature, type MessageTypes, type TypedMessage } from '@metamask/eth-sig-util';
import { Wallet, hexlify } from 'ethers';
import { describe, expect, it } from 'vitest';
import {
  SigningInputError,
  orderHash,
  orderTypedData,
  recoverCancelAllSigner,
  recoverCancelSigner,
  recoverOrderSigner,
  signCancel,
  signCancelAll,
  signOrder,
  type Eip712Venue,
  type OrderParams,
} from '../../../src/derivadex/crypto/eip712.ts';
import { ORDER_TYPE, type OrderTypeCode } from '../../../src/derivadex/codes.ts';

// Real signatures with a fixed test key (never a funded one).
const wallet = new Wallet('0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba');
const venue: Eip712Venue = { chainId: 11155111, verifyingContract: '0x5d1a3b4181d3cad422f404f28e9e972d0ba4dad6', decimals: 6 };
// The venue vector's nonce: ASCII "16277625418840800000" right-padded to 32 bytes.
const nonce = '0x3136323737363235343138383430383030303000000000000000000000000000';

const order: OrderParams = {
  symbol: 'ETHP',
  strategy: 'main',
  side: 'Ask',
  orderType: ORDER_TYPE.Limit,
  nonce,
  amount: '10.6',
  price: '2472.1',
  stopPrice: '0',
};

// ---- An independent description of the same typed data, for eth-sig-util. ----

/** DerivaDEX bytes32: length byte, UTF-8, zero padding. Written again here on purpose. */
function b32(s: string): string {
  const buf = Buffer.alloc(32);
  const written = buf.write(s, 1, 'utf8');
  buf[0] = written;
  return `0x${buf.toString('hex')}`;
}

const EIP712_DOMAIN = [
  { name: 'name', type: 'string' },
  { name: 'version', type: 'string' },
  { name: 'chainId', type: 'uint256' },
  { name: 'verifyingContract', type: 'address' },
];

function independent(
  primaryType: string,
  fields: [string, string][],
  message: Record<string, unknown>,
  chainId = 11155111,
): TypedMessage<MessageTypes> {
  return {
    types: { EIP712Domain: EIP712_DOMAIN, [primaryType]: fields.map(([name, type]) => ({ name, type })) },
    primaryType,
    domain: { name: 'DerivaDEX', version: '1', chainId, verifyingContract: '0x5d1a3b4181d3cad422f404f28e9e972d0ba4dad6' },
    message,
  };
}

const ORDER_FIELDS: [string, string][] = [
  ['symbol', 'bytes32'],
  ['strategy', 'bytes32'],
  ['side', 'uint256'],
  ['orderType', 'uint256'],
  ['nonce', 'bytes32'],
  ['amount', 'uint256'],
  ['price', 'uint256'],
  ['stopPrice', 'uint256'],
];

const independentOrder = independent('OrderParams', ORDER_FIELDS, {
  symbol: b32('ETHP'),
  strategy: b32('main'),
  side: 1, // Ask
  orderType: 0, // Limit
  nonce,
  amount: '10600000', // 10.6 × 10^6
  price: '2472100000', // 2472.1 × 10^6
  stopPrice: '0',
});

function recoverIndependently(data: TypedMessage<MessageTypes>, signature: string): string {
  return recoverTypedSignature({ data, signature, version: SignTypedDataVersion.V4 });
}

function eip712HashIndependently(data: TypedMessage<MessageTypes>): string {
  return hexlify(TypedDataUtils.eip712Hash(data, SignTypedDataVersion.V4));
}

describe('signOrder', () => {
  it('signs what eth-sig-util recovers to the trader, and the order hash is the first 25 digest bytes', () => {
    const signed = signOrder(wallet, order, venue);
    expect(recoverIndependently(independentOrder, signed.signature)).toBe(wallet.address.toLowerCase());
    const digest = eip712HashIndependently(independentOrder);
    expect(signed.digest).toBe(digest);
    expect(signed.orderHash).toBe(digest.slice(0, 2 + 50));
    expect(signed.orderHash).toHaveLength(2 + 50);
    expect(orderHash(order, venue)).toBe(signed.orderHash);
  });

  it('writes v as 27/28 (0x1b/0x1c) like the venue vector, and matches ethers signTypedData', async () => {
    const signed = signOrder(wallet, order, venue);
    expect(signed.signature).toMatch(/^0x[0-9a-f]{128}(1b|1c)$/);
    const data = orderTypedData(order, venue);
    expect(await wallet.signTypedData(data.domain, data.types, data.message)).toBe(signed.signature);
  });

  it('scales by the venue decimals: 18 gives a different message', () => {
    const venue18 = { ...venue, decimals: 18 };
    const signed = signOrder(wallet, order, venue18);
    const data = independent('OrderParams', ORDER_FIELDS, {
      ...independentOrder.message,
      amount: '10600000000000000000', // 10.6 × 10^18
      price: '2472100000000000000000', // 2472.1 × 10^18
    });
    expect(recoverIndependently(data, signed.signature)).toBe(wallet.address.toLowerCase());
    expect(signed.orderHash).not.toBe(signOrder(wallet, order, venue).orderHash);
  });

  it('a market Bid with price 0 encodes side 0 and orderType 1', () => {
    const market: OrderParams = { ...order, side: 'Bid', orderType: ORDER_TYPE.Market, price: '0', amount: '0.0001' };
    const signed = signOrder(wallet, market, venue);
    const data = independent('OrderParams', ORDER_FIELDS, {
      ...independentOrder.message,
      side: 0,
      orderType: 1,
      amount: '100', // 0.0001 × 10^6
      price: '0',
    });
    expect(recoverIndependently(data, signed.signature)).toBe(wallet.address.toLowerCase());
  });

  it('encodes Stop as 2 and LimitPostOnly as 3, the same integers the request carries', () => {
    for (const orderType of [ORDER_TYPE.Stop, ORDER_TYPE.LimitPostOnly]) {
      const signed = signOrder(wallet, { ...order, orderType }, venue);
      const data = independent('OrderParams', ORDER_FIELDS, { ...independentOrder.message, orderType });
      expect(recoverIndependently(data, signed.signature)).toBe(wallet.address.toLowerCase());
    }
  });
});

describe('recoverOrderSigner', () => {
  it('recovers the signer, and someone else for an altered order', () => {
    const { signature } = signOrder(wallet, order, venue);
    expect(recoverOrderSigner(order, signature, venue)).toBe(wallet.address);
    expect(recoverOrderSigner({ ...order, amount: '10.7' }, signature, venue)).not.toBe(wallet.address);
    expect(recoverOrderSigner(order, signature, { ...venue, chainId: 1 })).not.toBe(wallet.address);
  });

  it('refuses malformed signatures with a typed error', () => {
    const codeOf = (signature: string) => {
      try {
        recoverOrderSigner(order, signature, venue);
        return 'no-error';
      } catch (error) {
        return error instanceof SigningInputError ? error.code : 'untyped';
      }
    };
    expect(codeOf('0x1234')).toBe('bad-signature');
    expect(codeOf(`0x${'00'.repeat(65)}`)).toBe('bad-signature');
    expect(codeOf(`0x${'ff'.repeat(64)}1b`)).toBe('bad-signature');
  });
});

describe('signCancel', () => {
  it('signs CancelOrderParams with the 25-byte order hash right-padded to bytes32', () => {
    const hash25 = signOrder(wallet, order, venue).orderHash;
    const cancel = { symbol: 'ETHP', orderHash: hash25, nonce };
    const { signature, digest } = signCancel(wallet, cancel, venue);
    const data = independent(
      'CancelOrderParams',
      [
        ['symbol', 'bytes32'],
        ['orderHash', 'bytes32'],
        ['nonce', 'bytes32'],
      ],
      {
        symbol: b32('ETHP'),
        orderHash: hash25 + '00'.repeat(7),
        nonce,
      },
    );
    expect(recoverIndependently(data, signature)).toBe(wallet.address.toLowerCase());
    expect(digest).toBe(eip712HashIndependently(data));
    expect(recoverCancelSigner(cancel, signature, venue)).toBe(wallet.address);
  });

  it('refuses an order hash that is not 25 bytes', () => {
    expect(() => signCancel(wallet, { symbol: 'ETHP', orderHash: `0x${'ab'.repeat(32)}`, nonce }, venue)).toThrow(SigningInputError);
  });
});

describe('signCancelAll', () => {
  it('signs CancelAllParams', () => {
    const cancelAll = { symbol: 'BTCP', strategy: 'main', nonce };
    const { signature } = signCancelAll(wallet, cancelAll, venue);
    const data = independent(
      'CancelAllParams',
      [
        ['symbol', 'bytes32'],
        ['strategy', 'bytes32'],
        ['nonce', 'bytes32'],
      ],
      {
        symbol: b32('BTCP'),
        strategy: b32('main'),
        nonce,
      },
    );
    expect(recoverIndependently(data, signature)).toBe(wallet.address.toLowerCase());
    expect(recoverCancelAllSigner(cancelAll, signature, venue)).toBe(wallet.address);
  });
});

describe('input checks', () => {
  it('refuses bad nonces, enums and venues with typed errors', () => {
    const codeOf = (run: () => unknown) => {
      try {
        run();
        return 'no-error';
      } catch (error) {
        return error instanceof SigningInputError ? error.code : 'untyped';
      }
    };
    expect(codeOf(() => signOrder(wallet, { ...order, nonce: '0x01' }, venue))).toBe('bad-nonce');
    expect(codeOf(() => signOrder(wallet, { ...order, side: 'Buy' as 'Bid' }, venue))).toBe('bad-side');
    expect(codeOf(() => signOrder(wallet, { ...order, orderType: 7 as OrderTypeCode }, venue))).toBe('bad-order-type');
    expect(codeOf(() => signOrder(wallet, order, { ...venue, verifyingContract: '0x12' }))).toBe('bad-venue');
    expect(codeOf(() => signOrder(wallet, order, { ...venue, chainId: 1.5 }))).toBe('bad-venue');
  });
});
