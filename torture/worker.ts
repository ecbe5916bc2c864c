/**
 * A torture worker process (torture/worker-pool.ts): runs one task per message and answers with its
 * result. Tasks: a generated scenario run, a batch of machine runs, or a slice of the fuzz inputs.
 */
import { fuzzSlice, type FuzzSlice } from './fuzz.ts';
import { runMachineBatch } from './machine-runs.ts';
import { runScenarioTrial } from './scenario-trial.ts';

export type WorkerTask =
  | { kind: 'scenario'; seed: number; index: number; replay: boolean }
  | { kind: 'machines'; seed: number; from: number; to: number; deadline: number }
  | { kind: 'fuzz'; seed: number; deadline: number; limit: number; slice: number; of: number };

async function perform(task: WorkerTask): Promise<unknown> {
  switch (task.kind) {
    case 'scenario':
      return runScenarioTrial(task.seed, task.index, task.replay);
    case 'machines':
      return runMachineBatch(task.seed, task.from, task.to, task.deadline);
    case 'fuzz':
      return fuzzSlice(task.seed, task.deadline, task.limit, task.slice, task.of);
  }
}

process.on('message', (task: WorkerTask) => {
  const work = perform(task);
  work.then(
    (result) => process.send?.(result),
    (error: unknown) => {
      // Only a bug of the torture code itself gets here: die loudly, the pool reports it.
      console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      process.exit(70);
    },
  );
});

export type { FuzzSlice };
