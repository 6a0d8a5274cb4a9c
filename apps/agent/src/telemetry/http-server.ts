import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Service } from '../lib/service.js';

/** `/metrics` (Prometheus text format) and `/healthz` (200 once every service started, 503 while stopping). */
export class MetricsHttpServer implements Service {
  readonly name = 'metrics-http';
  private server: Server | undefined;
  private healthy = false;

  constructor(
    private readonly options: { host: string; port: number },
    private readonly registry: Registry,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
      } else if (path === '/metrics') {
        this.registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
          (err: unknown) => {
            this.log.error({ err }, 'metrics collection failed');
            res.writeHead(500).end();
          },
        );
      } else if (path === '/healthz') {
        res
          .writeHead(this.healthy ? 200 : 503, { 'content-type': 'application/json' })
          .end(JSON.stringify({ status: this.healthy ? 'ok' : 'unavailable' }));
      } else {
        res.writeHead(404).end();
      }
    });
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.log.info({ address: this.address() }, 'metrics listening');
  }

  setHealthy(healthy: boolean): void {
    this.healthy = healthy;
  }

  address(): AddressInfo | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a : undefined;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
