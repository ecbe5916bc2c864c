import { accessSync, constants } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium: playwright-core downloads no browser, so the tests drive the system one. */
export const CHROMIUM_PATH = process.env.RISKWARDEN_CHROMIUM ?? '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Launches headless Chromium, or fails with how to get it: a dashboard test that cannot run a real
 * browser must fail, never skip.
 */
export async function launchChromium(): Promise<Browser> {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
  } catch {
    throw new Error(
      `the dashboard tests need Chromium at ${CHROMIUM_PATH} and there is none: install it with ` +
        '`apt-get update && apt-get install -y chromium` (.ci/run does this on CI), or point RISKWARDEN_CHROMIUM at a Chromium binary',
    );
  }
  try {
    return await chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS, timeout: 30_000 });
  } catch (error) {
    throw new Error(`Chromium at ${CHROMIUM_PATH} did not start: ${(error as Error).message}`);
  }
}
