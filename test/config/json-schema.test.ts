import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_DIR, fleetJsonSchema, jsonSchemaFiles, scenarioJsonSchema } from '../../src/config/json-schema.ts';

describe('generated JSON Schemas', () => {
  it.each(jsonSchemaFiles())('config/$file is up to date (regenerate: npx tsx src/config/json-schema.ts)', ({ file, text }) => {
    expect(readFileSync(join(CONFIG_DIR, file), 'utf8')).toBe(text);
  });

  it('describe what may be written: decimals as strings or numbers, durations as text or ms', () => {
    const fleet = fleetJsonSchema() as {
      properties: Record<string, { properties?: Record<string, unknown> }>;
      required: string[];
      additionalProperties: boolean;
    };
    expect(fleet.required).toEqual(['accounts']);
    expect(fleet.additionalProperties).toBe(false);
    const defaults = fleet.properties.defaults!.properties!;
    expect(JSON.stringify(defaults.reductionFraction)).toContain('"number"');
    expect(JSON.stringify(defaults.reductionFraction)).toContain('"string"');
    expect(defaults.reductionTimeout).toMatchObject({ default: '15s' });
    const scenario = scenarioJsonSchema() as { required: string[] };
    expect([...scenario.required].sort()).toEqual(['accounts', 'marks', 'name', 'until']);
  });
});
