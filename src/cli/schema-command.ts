import { jsonSchemaFiles, writeJsonSchemas } from '../config/json-schema.ts';
import { EXIT_OK, type CliIo } from './io.ts';

/** Prints the JSON Schemas of the fleet and scenario files, or writes them into config/. */
export function schemaCommand(write: boolean, io: CliIo): number {
  if (write) {
    for (const file of writeJsonSchemas()) io.out(`wrote ${file}`);
    return EXIT_OK;
  }
  for (const { file, text } of jsonSchemaFiles()) {
    io.out(`// ${file}`);
    io.out(text.trimEnd());
  }
  return EXIT_OK;
}
