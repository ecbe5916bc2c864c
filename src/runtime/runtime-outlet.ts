import type { Clock } from '../clock/clock.ts';
import type { TimelineRecord } from '../timeline/timeline-record.ts';

/**
 * What every part of the fleet runtime writes to: the timeline (its `t` counted from `origin` on `clock`)
 * and the problems that must be seen but must not stop the fleet.
 */
export interface RuntimeOutlet {
  readonly clock: Pick<Clock, 'now'>;
  /** Epoch ms of t = 0 in timeline records. */
  readonly origin: number;
  write(record: TimelineRecord): void;
  report(message: string): void;
}
