import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Child processes running torture/worker.ts, one task at a time each: the campaigns use every core, and
 * a task that kills its process (a native crash, out of memory) kills only that worker; its task fails
 * with the exit code and the pool starts another.
 */
export class WorkerPool<Task, Result> {
  readonly #size: number;
  readonly #idle: ChildProcess[] = [];
  readonly #all = new Set<ChildProcess>();
  readonly #waiting: ((worker: ChildProcess) => void)[] = [];
  #closed = false;

  constructor(size: number) {
    this.#size = Math.max(1, size);
  }

  #spawn(): ChildProcess {
    const child = fork(fileURLToPath(new URL('./worker.ts', import.meta.url)), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    // Keep the tail of stderr: a dying worker's last words go into the failure.
    let tail = '';
    child.stderr?.on('data', (chunk: Buffer) => void (tail = (tail + chunk.toString()).slice(-4000)));
    Object.defineProperty(child, 'stderrTail', { get: () => tail });
    this.#all.add(child);
    child.once('exit', () => this.#all.delete(child));
    return child;
  }

  async #acquire(): Promise<ChildProcess> {
    const idle = this.#idle.pop();
    if (idle) return idle;
    if (this.#all.size < this.#size) return this.#spawn();
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #release(worker: ChildProcess): void {
    const next = this.#waiting.shift();
    if (next) next(worker);
    else this.#idle.push(worker);
  }

  async run(task: Task): Promise<Result> {
    if (this.#closed) throw new Error('WorkerPool.run: the pool is closed');
    const worker = await this.#acquire();
    return new Promise<Result>((resolve, reject) => {
      const onMessage = (message: unknown): void => {
        cleanup();
        this.#release(worker);
        resolve(message as Result);
      };
      const onExit = (code: number | null, signal: string | null): void => {
        cleanup();
        const tail = (worker as ChildProcess & { stderrTail?: string }).stderrTail ?? '';
        // A replacement takes its place for whoever waits.
        const next = this.#waiting.shift();
        if (next && !this.#closed) next(this.#spawn());
        reject(new Error(`the worker process died (exit ${code ?? signal}): ${tail.trim().split('\n').slice(-12).join('\n')}`));
      };
      const cleanup = (): void => {
        worker.off('message', onMessage);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.once('exit', onExit);
      worker.send(task as object);
    });
  }

  close(): void {
    this.#closed = true;
    for (const child of this.#all) child.kill();
    this.#all.clear();
    this.#idle.length = 0;
  }
}
