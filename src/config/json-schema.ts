import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { fleetSchema } from './fleet-schema.ts';
import { scenarioSchema } from './scenario-schema.ts';

/**
 * JSON Schemas of the fleet and scenario files, generated from the zod schemas (so they cannot say
 * something else) for editors: `# yaml-language-server: $schema=./fleet.schema.json`.
 * `io: 'input'` describes what may be written (a decimal is a string or a number, a duration "90s" or
 * ms), not what the loader produces. Draft-07, which every editor understands. Cross-field rules
 * (duplicate ids, unknown references, "maxAbsoluteRisk or maxRelativeRisk") are only in the loader.
 */

export const CONFIG_DIR = fileURLToPath(new URL('../../config/', import.meta.url));

export const JSON_SCHEMA_FILES = { fleet: 'fleet.schema.json', scenario: 'scenario.schema.json' } as const;

function generate(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { io: 'input', target: 'draft-7' });
}

export function fleetJsonSchema(): Record<string, unknown> {
  return generate(fleetSchema);
}

export function scenarioJsonSchema(): Record<string, unknown> {
  return generate(scenarioSchema);
}

/** The text of a schema file: 2-space JSON and a final newline. */
export function renderJsonSchema(schema: Record<string, unknown>): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

/** Both schema files as they should be committed, by file name. */
export function jsonSchemaFiles(): { file: string; text: string }[] {
  return [
    { file: JSON_SCHEMA_FILES.fleet, text: renderJsonSchema(fleetJsonSchema()) },
    { file: JSON_SCHEMA_FILES.scenario, text: renderJsonSchema(scenarioJsonSchema()) },
  ];
}

/** Writes both files into `dir` (default: the project's config/) and returns their paths. */
export function writeJsonSchemas(dir: string = CONFIG_DIR): string[] {
  return jsonSchemaFiles().map(({ file, text }) => {
    const path = join(dir, file);
    writeFileSync(path, text);
    return path;
  });
}

// `npx tsx src/config/json-schema.ts` regenerates the files.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const path of writeJsonSchemas()) console.log(`wrote ${path}`);
}
