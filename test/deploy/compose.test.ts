import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfigFileSync } from '../../src/config/load.ts';

// No Docker engine runs here: check what can be checked — the file parses, every command and option the
// riskwarden services run exists in the CLI, every environment variable they set is one riskwarden reads,
// and the fleet they share is valid. test/supervisor/ runs the same topology as plain processes.
interface Service {
  build?: string;
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  deploy?: { replicas?: number };
}

const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as { services: Record<string, Service> };
const help = (...args: string[]): string =>
  spawnSync(process.execPath, ['bin/riskwarden.js', ...args, '--help'], { encoding: 'utf8' }).stdout;
const riskwarden = Object.entries(compose.services).filter(([, s]) => s.build === '.');

describe('docker-compose.yml', () => {
  it('declares Redis, the simulator and two supervisor replicas, each with a health check', () => {
    expect(compose.services.redis?.image).toMatch(/^redis:/);
    expect(compose.services.sim?.command?.[0]).toBe('sim');
    expect(compose.services.supervisor?.command?.[0]).toBe('run');
    expect(compose.services.supervisor?.deploy?.replicas).toBe(2);
    for (const [name, service] of Object.entries(compose.services)) expect(service.healthcheck, name).toBeDefined();
    expect(compose.services.supervisor?.depends_on).toMatchObject({
      redis: { condition: 'service_healthy' },
      sim: { condition: 'service_healthy' },
    });
  });

  it('runs only commands and options the CLI has', () => {
    for (const [name, service] of riskwarden) {
      const [command, ...args] = service.command ?? [];
      expect(help(), `service ${name} runs "${command}"`).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
      const options = help(command!);
      for (const arg of args.filter((a) => a.startsWith('--'))) expect(options, `${name}: ${command} ${arg}`).toContain(arg);
    }
  });

  it('sets only environment variables riskwarden reads, and the fleet it runs is valid', () => {
    const config = loadConfigFileSync('config/fleet.compose.yaml', { expect: 'fleet' });
    expect(config.ok).toBe(true);
    const keyEnv = config.ok && config.kind === 'fleet' ? config.value.venue.traderKeyEnv : '';
    for (const [name, service] of riskwarden) {
      const known = ['REDIS_URL', keyEnv, 'RISKWARDEN_API_ADMIN_TOKEN', 'RISKWARDEN_API_READ_TOKEN'];
      for (const variable of Object.keys(service.environment ?? {})) expect(known, `${name}: ${variable}`).toContain(variable);
    }
    for (const [, service] of riskwarden) {
      const file = service.command?.find((a) => a.startsWith('/app/config/'));
      if (file) expect(readFileSync(file.replace('/app/', ''), 'utf8').length).toBeGreaterThan(0);
    }
  });

  it("publishes each replica's API port, the one the fleet config serves on", () => {
    const config = loadConfigFileSync('config/fleet.compose.yaml', { expect: 'fleet' });
    const api = config.ok && config.kind === 'fleet' ? config.value.api : undefined;
    expect(api).toMatchObject({ host: '0.0.0.0', port: 8377 });
    expect((compose.services.supervisor as { ports?: string[] }).ports).toEqual(['8377']);
    expect(compose.services.supervisor?.healthcheck?.test.join(' ')).toContain('8377/healthz');
  });

  it('builds from a Dockerfile that installs with npm ci and runs the CLI', () => {
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    expect(dockerfile).toMatch(/npm ci/);
    expect(dockerfile).toMatch(/ENTRYPOINT \["node", "bin\/riskwarden.js"\]/);
    expect(dockerfile).toMatch(/COPY config/);
  });
});
