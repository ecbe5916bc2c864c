#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so the CLI works right after `npm install`.
import { register } from 'tsx/esm/api';

register();
// A reader that stops early (`riskwarden simulate … --json | head`) is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
