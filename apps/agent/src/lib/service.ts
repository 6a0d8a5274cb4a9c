/** A long-running part of the agent. `close()` is idempotent and safe to call after a failed `start()`. */
export interface Service {
  readonly name: string;
  start(): Promise<void>;
  close(): Promise<void>;
}
