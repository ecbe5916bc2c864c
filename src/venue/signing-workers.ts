import { Worker } from 'node:worker_threads';
import { hexlify } from 'ethers';
import { secp256k1Backend } from '../derivadex/crypto/secp256k1-backend.ts';

/*
 * Signing a burst on worker threads. A request signed alone (nothing else waiting) is signed inline, at
 * once, exactly as before; when several are submitted in one turn of the event loop (a crash sends a
 * reduction for every account at once) the ones after the first are shared among the threads
 * (signing-worker.js), in chunks. The digests are computed by the caller: an order's hash is known, and
 * announced, before its signature.
 *
 * Order: results are handed back strictly in the order the jobs were submitted, whichever thread
 * finished first, so the requests go on the wire in submission order. The bytes do not depend on the
 * threads either: RFC 6979 makes a signature a function of key and digest alone.
 *
 * A thread that fails or exits takes nothing with it: its jobs are signed inline. Before the threads
 * are up (and after close) everything is signed inline.
 */

export interface SignJob {
  /** The 32-byte EIP-712 digest. */
  digest: Uint8Array;
  /** The trader's secret key: it stays in this process (threads share its memory space). */
  secretKey: Uint8Array;
}

export interface SignResult {
  /** 65 bytes r ‖ s ‖ v, 0x-hex. */
  signature: string;
}

export interface SigningWorkersOptions {
  /**
   * Threads (default 1: with this thread building and posting the burst, both cores of the 2-core
   * machine we size for; more oversubscribes it). 0: always inline.
   */
  threads?: number;
  /** Most jobs per message to a thread (default 64). */
  chunk?: number;
  /** The threads' environment (default this process's): RISKWARDEN_SECP256K1=ethers forces their fallback. */
  env?: Readonly<Record<string, string>>;
}

export interface SigningWorkersStats {
  inline: number;
  threaded: number;
  /** Threads started and not yet gone. */
  threads: number;
  /** What each running thread signs with, once it has said so. */
  backends: ('native' | 'ethers')[];
}

const RESULT_BYTES = 65;
const WORKER_URL = new URL('../derivadex/crypto/signing-worker.js', import.meta.url);

interface Slot {
  job: SignJob;
  result?: SignResult;
  error?: Error;
  resolve(result: SignResult): void;
  reject(error: Error): void;
}

interface Thread {
  worker: Worker;
  online: boolean;
  backend?: 'native' | 'ethers';
  /** Chunks sent and not answered, by message id. */
  chunks: Map<number, Slot[]>;
  exited: Promise<void>;
}

function signInline(job: SignJob): SignResult {
  return { signature: hexlify(secp256k1Backend().sign(job.digest, job.secretKey)) };
}

export class SigningWorkers {
  readonly #size: number;
  readonly #chunk: number;
  readonly #env: Readonly<Record<string, string>> | undefined;
  readonly #threads: Thread[] = [];
  /** Submitted, not yet handed back, oldest first from #head (a burst is 10,000 long: no shift()). */
  #order: Slot[] = [];
  #head = 0;
  /** Submitted this turn, not yet sent to a thread. */
  #queued: Slot[] = [];
  #turnOpen = false;
  #nextId = 0;
  #next = 0;
  #closed = false;
  #inline = 0;
  #threaded = 0;

  constructor(options: SigningWorkersOptions = {}) {
    this.#size = options.threads ?? 1;
    this.#chunk = options.chunk ?? 64;
    this.#env = options.env;
    if (!Number.isInteger(this.#size) || this.#size < 0) throw new RangeError('threads must be an integer >= 0');
    if (!Number.isInteger(this.#chunk) || this.#chunk < 1) throw new RangeError('chunk must be an integer >= 1');
  }

  /** Starts the threads now rather than at the first burst; resolves when they are up. */
  async warm(): Promise<void> {
    if (this.#closed) return;
    this.#start();
    const up = (t: Thread): Promise<void> | undefined => {
      if (t.online) return undefined;
      return new Promise<void>((resolve) => {
        t.worker.once('online', () => resolve());
        t.worker.once('exit', () => resolve());
      });
    };
    await Promise.all(this.#threads.map(up));
  }

  /**
   * The job's signature: inline and synchronous when nothing else is waiting, else a promise settled
   * after every job submitted before it.
   */
  sign(job: SignJob): SignResult | Promise<SignResult> {
    const first = !this.#turnOpen;
    if (first) {
      this.#turnOpen = true;
      queueMicrotask(() => this.#flush());
    }
    if (this.#head === this.#order.length && (first || this.#size === 0 || this.#closed)) {
      this.#inline += 1;
      return signInline(job);
    }
    return new Promise<SignResult>((resolve, reject) => {
      const slot: Slot = { job, resolve, reject };
      this.#order.push(slot);
      this.#queued.push(slot);
      // A full chunk goes to a thread at once: it signs while this thread is still building the burst.
      if (this.#queued.length >= this.#chunk) this.#sendFullChunk();
    });
  }

  get stats(): SigningWorkersStats {
    const backends = this.#threads.flatMap((t) => (t.backend === undefined ? [] : [t.backend]));
    return { inline: this.#inline, threaded: this.#threaded, threads: this.#threads.length, backends };
  }

  /** Stops every thread (what they held is signed inline) and waits until they are gone. */
  async close(): Promise<void> {
    this.#closed = true;
    const threads = this.#threads.splice(0);
    for (const t of threads) this.#orphan(t);
    await Promise.all(threads.map((t) => t.worker.terminate().then(() => t.exited)));
  }

  #start(): void {
    while (!this.#closed && this.#threads.length < this.#size) this.#threads.push(this.#spawn());
  }

  #spawn(): Thread {
    // Plain JavaScript: no loader, and none of the parent's flags (an `-e` script, `--import tsx`) to trip over.
    const worker = new Worker(WORKER_URL, { execArgv: [], ...(this.#env === undefined ? {} : { env: { ...this.#env } }) });
    // Idle threads never keep the process alive; a chunk in flight refs it again (see #send).
    worker.unref();
    const thread: Thread = { worker, online: false, chunks: new Map(), exited: Promise.resolve() };
    thread.exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.once('online', () => {
      thread.online = true;
      this.#flush();
    });
    worker.on('message', (message: { id: number; results?: Uint8Array; error?: string; backend?: 'native' | 'ethers' }) => {
      if (message.backend !== undefined) thread.backend = message.backend;
      else this.#answer(thread, message);
    });
    worker.on('error', () => this.#lose(thread));
    worker.once('exit', () => this.#lose(thread));
    return thread;
  }

  #flush(): void {
    this.#turnOpen = false;
    if (this.#queued.length === 0) return;
    if (!this.#closed && this.#size > 0) this.#start();
    const online = this.#threads.filter((t) => t.online);
    const queued = this.#queued;
    this.#queued = [];
    if (online.length === 0) {
      // Threads still starting (or none): sign here rather than wait for them.
      for (const slot of queued) this.#settleInline(slot);
      this.#drain();
      return;
    }
    // The rest of the burst in even shares, round-robin from where the last chunk went, at most `chunk` a message.
    const per = Math.min(this.#chunk, Math.ceil(queued.length / online.length));
    for (let at = 0; at < queued.length; at += per) {
      const thread = online[this.#next % online.length]!;
      this.#next += 1;
      this.#send(thread, queued.slice(at, at + per));
    }
  }

  #sendFullChunk(): void {
    const online = this.#threads.filter((t) => t.online);
    if (online.length === 0) return;
    const thread = online[this.#next % online.length]!;
    this.#next += 1;
    this.#send(thread, this.#queued.splice(0, this.#chunk));
  }

  #send(thread: Thread, slots: Slot[]): void {
    const id = this.#nextId;
    this.#nextId += 1;
    thread.chunks.set(id, slots);
    if (thread.chunks.size === 1) thread.worker.ref();
    thread.worker.postMessage({
      id,
      digests: slots.map((s) => s.job.digest),
      keys: slots.map((s) => s.job.secretKey),
    });
  }

  #answer(thread: Thread, message: { id: number; results?: Uint8Array; error?: string }): void {
    const slots = thread.chunks.get(message.id);
    if (slots === undefined) return;
    thread.chunks.delete(message.id);
    if (thread.chunks.size === 0) thread.worker.unref();
    const results = message.results;
    slots.forEach((slot, i) => {
      if (results === undefined || results.length !== RESULT_BYTES * slots.length) {
        // The thread could not sign: the same job inline gives the answer (or the error) it should have.
        this.#settleInline(slot);
        return;
      }
      const at = RESULT_BYTES * i;
      slot.result = { signature: hexlify(results.subarray(at, at + RESULT_BYTES)) };
      this.#threaded += 1;
    });
    this.#drain();
  }

  #settleInline(slot: Slot): void {
    try {
      slot.result = signInline(slot.job);
      this.#inline += 1;
    } catch (error) {
      slot.error = error instanceof Error ? error : new Error('signing failed');
    }
  }

  /** A thread that failed or exited: its chunks are signed inline, and it is not used again. */
  #lose(thread: Thread): void {
    const i = this.#threads.indexOf(thread);
    if (i !== -1) this.#threads.splice(i, 1);
    this.#orphan(thread);
  }

  #orphan(thread: Thread): void {
    thread.online = false;
    const chunks = [...thread.chunks.values()];
    thread.chunks.clear();
    for (const slots of chunks) for (const slot of slots) this.#settleInline(slot);
    if (chunks.length > 0) this.#drain();
  }

  /** Hands back finished jobs from the oldest on, stopping at the first still being signed. */
  #drain(): void {
    while (this.#head < this.#order.length) {
      const head = this.#order[this.#head]!;
      if (head.result === undefined && head.error === undefined) return;
      this.#head += 1;
      if (head.error !== undefined) head.reject(head.error);
      else head.resolve(head.result!);
    }
    this.#order = this.#order.slice(this.#head);
    this.#head = 0;
  }
}
