/** Where a command writes: injectable so tests can capture output without spawning a process. */
export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** A transient status line (a progress bar) that the next output replaces; '' clears it. */
  progress?: (line: string) => void;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  progress: (line) => {
    if (process.stderr.isTTY) process.stderr.write(`\r\u001b[2K${line}`);
  },
};

/** Exit codes (docs/contracts.md#exit-codes). */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_INVALID_INPUT = 2;
