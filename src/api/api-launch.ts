import { startApiServer, type ApiServer, type ApiServerOptions } from './api-server.ts';
import { DEFAULT_TOKEN_ENV, tokensFromEnv } from './auth.ts';

export interface ApiLaunchOptions extends Omit<ApiServerOptions, 'tokens' | 'onGeneratedToken' | 'onListen'> {
  env: Record<string, string | undefined>;
  /** Names of the token variables (a fleet config's `api.tokensEnv`); default RISKWARDEN_API_READ_TOKEN / _ADMIN_TOKEN. */
  tokensEnv?: { read?: string | undefined; admin?: string | undefined } | undefined;
  /** The port is the default rather than asked for: when it is taken, serve on a free port instead. */
  fallbackToFreePort?: boolean;
  /** Where the URLs go (once); tokens appear only when generated for this run. */
  note: (message: string) => void;
  /**
   * Where the one line with a generated token goes (default: note). A logger that scrubs secrets would
   * hide it, and it is printed exactly once: give the terminal here.
   */
  announceToken?: (message: string) => void;
}

/**
 * Starts the API for a command (`riskwarden run`, `riskwarden start`): tokens from the environment, the
 * URLs printed once — with the generated admin token in the dashboard link when none was configured,
 * otherwise naming the variable that holds it (a configured token is never printed).
 */
export async function launchApi(options: ApiLaunchOptions): Promise<ApiServer> {
  const { env, tokensEnv, fallbackToFreePort, note, announceToken, ...serverOptions } = options;
  const tokens = tokensFromEnv(env, tokensEnv ?? {});
  const start = (port: number | undefined): Promise<ApiServer> =>
    startApiServer({
      ...serverOptions,
      ...(port !== undefined ? { port } : {}),
      tokens,
      tokenEnvNames: tokensEnv ?? {},
      onGeneratedToken: () => {},
    });
  let api: ApiServer;
  try {
    api = await start(serverOptions.port);
  } catch (error) {
    if (!fallbackToFreePort || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    note(`port ${serverOptions.port ?? 8377} is in use: serving the API on a free port instead`);
    api = await start(0);
  }
  const adminName = tokensEnv?.admin ?? DEFAULT_TOKEN_ENV.admin;
  note(`API at ${api.url}/api/v1/fleet (OpenAPI: ${api.url}/openapi.json, live: ${api.url.replace(/^http/, 'ws')}/api/v1/live)`);
  if (api.generatedToken) {
    note(`no API token configured (${adminName}, ${tokensEnv?.read ?? DEFAULT_TOKEN_ENV.read}): generated an admin token for this run`);
    (announceToken ?? note)(`dashboard: ${api.url}/?token=${api.generatedToken}`);
  } else if (tokens.admin) {
    note(`dashboard: ${api.url}/?token=<the token in ${adminName}>`);
  } else {
    note(`dashboard: ${api.url}/?token=<the token in ${tokensEnv?.read ?? DEFAULT_TOKEN_ENV.read}>`);
  }
  return api;
}
