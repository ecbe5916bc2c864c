import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// No Docker engine runs here: check what can be checked — the file parses, and every command the
// riskwarden services run exists in the CLI.
describe('docker-compose.yml', () => {
  const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as { services: Record<string, { build?: string; command?: string[]; image?: string }> };

  it('declares redis and the riskwarden services', () => {
    expect(compose.services.redis?.image).toMatch(/^redis:/);
    expect(Object.values(compose.services).some((s) => s.build === '.')).toBe(true);
  });

  it('runs only commands the CLI has', () => {
    const help = spawnSync(process.execPath, ['bin/riskwarden.js', '--help'], { encoding: 'utf8' }).stdout;
    for (const [name, service] of Object.entries(compose.services)) {
      if (service.build !== '.') continue;
      const command = service.command?.[0];
      expect(command, `service ${name}`).toBeDefined();
      expect(help, `service ${name} runs "${command}"`).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    }
  });

  it('builds from a Dockerfile that installs with npm ci and runs the CLI', () => {
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    expect(dockerfile).toMatch(/npm ci/);
    expect(dockerfile).toMatch(/ENTRYPOINT \["node", "bin\/riskwarden.js"\]/);
  });
});
