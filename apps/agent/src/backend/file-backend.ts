import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Backend } from './backend.js';
import { SiteView } from './site.js';

/** Standalone mode: site data from one JSON file, re-read on `reload()` (SIGHUP in the daemon). */
export class FileBackend implements Backend {
  readonly kind = 'file';
  private view: SiteView | undefined;

  constructor(
    private readonly path: string,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.view = await this.read();
    this.log.info(
      { path: this.path, hosts: this.view.hostCount, subnets: this.view.subnets.length },
      'site data loaded',
    );
  }

  async reload(): Promise<void> {
    try {
      this.view = await this.read();
      this.log.info({ path: this.path, hosts: this.view.hostCount }, 'site data reloaded');
    } catch (err) {
      this.log.error({ err, path: this.path }, 'site data reload failed; keeping the previous version');
    }
  }

  current(): SiteView {
    if (!this.view) throw new Error('FileBackend.current() before start()');
    return this.view;
  }

  async close(): Promise<void> {}

  private async read(): Promise<SiteView> {
    const text = await readFile(this.path, 'utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new Error(`${this.path}: ${(err as Error).message}`, { cause: err });
    }
    return SiteView.parse(json);
  }
}
