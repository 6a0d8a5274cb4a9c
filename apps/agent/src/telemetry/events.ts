/**
 * Boot events buffered in memory for the control plane. A bounded ring: when full, the oldest event
 * is overwritten and counted in `dropped`, so a control plane that is away for hours costs a fixed
 * amount of memory. The sync drains it with `drain()`.
 */

export type BootEventOutcome = 'replied' | 'ignored' | 'dropped' | 'nak' | 'error';

export interface BootEvent {
  /** Milliseconds since the epoch. */
  readonly at: number;
  readonly mac: string;
  readonly kind: string;
  readonly messageType: string;
  readonly outcome: BootEventOutcome;
  readonly reason?: string;
  readonly ip?: string;
  readonly bootFile?: string;
  readonly manifest?: string;
  readonly cacheVerdict?: string;
  readonly latencyMs: number;
  readonly relayed: boolean;
}

export interface BootEventSink {
  record(event: BootEvent): void;
}

/** What the control-plane sync drains (and what the daemon reports at shutdown). */
export interface BootEventBuffer extends BootEventSink {
  /** Removes and returns up to `max` events, oldest first. */
  drain(max?: number): BootEvent[];
  readonly length: number;
  /** Events overwritten before anyone drained them, since start. */
  readonly dropped: number;
}

export class BootEventRing implements BootEventBuffer {
  private readonly slots: (BootEvent | undefined)[];
  private head = 0;
  private size = 0;
  private droppedCount = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be a positive integer');
    this.slots = new Array<BootEvent | undefined>(capacity);
  }

  record(event: BootEvent): void {
    const tail = (this.head + this.size) % this.capacity;
    this.slots[tail] = event;
    if (this.size < this.capacity) {
      this.size++;
    } else {
      this.head = (this.head + 1) % this.capacity;
      this.droppedCount++;
    }
  }

  /** Removes and returns up to `max` events, oldest first. */
  drain(max = this.capacity): BootEvent[] {
    const n = Math.min(max, this.size);
    const out: BootEvent[] = [];
    for (let i = 0; i < n; i++) {
      out.push(this.slots[this.head]!);
      this.slots[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
    }
    this.size -= n;
    return out;
  }

  get length(): number {
    return this.size;
  }

  /** Events overwritten before anyone drained them, since start. */
  get dropped(): number {
    return this.droppedCount;
  }
}
