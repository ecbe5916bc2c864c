import { z } from 'zod';
import { accountSchema, portfolioSchema, subscriberSchema } from './account-schema.ts';
import { atMost, INPUT_LIMITS } from './input-limits.ts';
import { address, duration, envName, host, httpUrl, identifier, integerAtLeast, port, redisUrl, says, text, wsUrl } from './primitives.ts';
import { liquiditySchema, productsSchema } from './product-schema.ts';
import { defaultsSchema, sessionSchema } from './session-schema.ts';

/** Where the supervisor trades. Private keys never appear here: see private-key-guard.ts. */
export const venueSchema = z
  .strictObject({
    kind: z
      .enum(['simulator', 'derivadex'])
      .default('simulator')
      .meta({ description: 'The local exchange simulator, or a DerivaDEX deployment.' }),
    url: httpUrl.optional().meta({ description: 'REST base URL of the venue.' }),
    wsUrl: wsUrl.optional().meta({ description: 'WebSocket URL of the venue (default: derived from url).' }),
    contractDeployment: text('a deployment name')
      .default('mainnet')
      .meta({ description: 'Which deployment `GET /contract-server/addresses?contractDeployment=` describes (mainnet, testnet, ...).' }),
    chainId: integerAtLeast(1)
      .optional()
      .meta({ description: 'EIP-712 domain chainId; overrides the deployment info (set with verifyingContract).' }),
    verifyingContract: address
      .optional()
      .meta({ description: 'EIP-712 domain verifyingContract; overrides the deployment info (set with chainId).' }),
    recvWindowMs: integerAtLeast(1)
      .default(5000)
      .meta({ description: 'recv_window_ms of signed requests: how long after client_timestamp_ms the gateway may accept one.' }),
    amountScaleDecimals: z
      .union([z.literal(6), z.literal(18)], { error: says('expected 6 or 18') })
      .default(6)
      .meta({
        description:
          'Decimals of the integer scaling of amounts and prices in signed requests (no source settles it; 6 is what the venue test vector was built with).',
      }),
    traderKeyEnv: envName.default('RISKWARDEN_TRADER_KEY').meta({ description: 'Environment variable that holds the trader private key.' }),
    keystore: text('a file path')
      .optional()
      .meta({ description: 'Path to an encrypted JSON keystore holding the trader key (instead of traderKeyEnv).' }),
    keystorePasswordEnv: envName.optional().meta({ description: 'Environment variable that holds the keystore password.' }),
    staleFeedAfter: duration.prefault('5s').meta({ description: 'A feed silent for this long counts as stale (entries stop).' }),
    simulator: z
      .strictObject({
        host: host.default('127.0.0.1'),
        port: port.default(0),
        liquidity: liquiditySchema.prefault({}),
      })
      .prefault({})
      .meta({ description: 'The local exchange simulator (used when kind is simulator).' }),
  })
  .meta({ description: 'The venue. Private keys are never read from config files: use traderKeyEnv or keystore.' });

const hostPort = z.strictObject({ host, port });

export const redisSchema = z
  .strictObject({
    url: redisUrl
      .optional()
      .meta({ description: 'Redis URL; the --redis option and REDIS_URL take precedence. Absent everywhere: the in-memory store.' }),
    prefix: identifier.default('riskwarden').meta({ description: 'Key prefix of every key riskwarden writes.' }),
    sentinels: z.array(hostPort).min(1).optional().meta({ description: 'Redis Sentinel nodes (with sentinelName).' }),
    sentinelName: identifier.optional().meta({ description: 'The Sentinel master group name.' }),
    cluster: z.array(hostPort).min(1).optional().meta({ description: 'Redis Cluster seed nodes.' }),
    failClosedAfter: duration
      .prefault('2s')
      .meta({ description: 'After this long without the store, every account is treated as stopped out.' }),
    reconcileEvery: duration.prefault('500ms').meta({
      description:
        'How often stopouts are re-read from the keys (pub/sub is only the fast path); 500 ms keeps a raw write without PUBLISH within 1 s, read time included.',
    }),
  })
  .meta({ description: 'The shared stopout store.' });

export const apiSchema = z
  .strictObject({
    host: host.default('127.0.0.1'),
    port: port.default(8377),
    tokensEnv: z
      .strictObject({
        read: envName.optional().meta({ description: 'Environment variable holding the bearer token for read access.' }),
        admin: envName.optional().meta({ description: 'Environment variable holding the bearer token for admin access (stopouts).' }),
      })
      .optional(),
  })
  .meta({ description: 'The HTTP API and dashboard.' });

/** `riskwarden run --config fleet.yaml`. */
export const fleetSchema = z
  .strictObject({
    $schema: z.string().optional().meta({ description: 'Editor hint; ignored.' }),
    venue: venueSchema.prefault({}),
    products: productsSchema.optional(),
    session: sessionSchema.prefault({}),
    defaults: defaultsSchema.prefault({}),
    accounts: z
      .array(accountSchema)
      .min(1, { error: 'expected at least one account' })
      .max(INPUT_LIMITS.fleetAccounts, { error: atMost(INPUT_LIMITS.fleetAccounts, 'accounts') })
      .meta({ description: 'The supervised accounts.' }),
    portfolios: z
      .array(portfolioSchema)
      .max(INPUT_LIMITS.groups, { error: atMost(INPUT_LIMITS.groups, 'portfolios') })
      .default([])
      .meta({ description: 'Portfolio strategies.' }),
    subscribers: z
      .array(subscriberSchema)
      .max(INPUT_LIMITS.groups, { error: atMost(INPUT_LIMITS.groups, 'subscribers') })
      .default([])
      .meta({ description: 'CopyFactory subscribers.' }),
    redis: redisSchema.prefault({}),
    api: apiSchema.prefault({}),
  })
  .meta({ title: 'riskwarden fleet', description: 'The fleet a riskwarden supervisor runs (riskwarden run --config).' });

export type FleetConfig = z.output<typeof fleetSchema>;
export type VenueConfig = z.output<typeof venueSchema>;
export type RedisConfig = z.output<typeof redisSchema>;
export type ApiConfig = z.output<typeof apiSchema>;
