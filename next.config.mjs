// The one Next.js configuration of the repository. `next` run in apps/web finds it by walking up.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  outputFileTracingRoot: root,
  turbopack: { root },
  // Server-only packages with native pieces or dynamic requires stay outside the bundle.
  serverExternalPackages: [
    'pino',
    'pino-pretty',
    'prom-client',
    'bullmq',
    'ioredis',
    'pg',
    '@prisma/adapter-pg',
  ],
  typedRoutes: false,
  async headers() {
    return [
      {
        source: '/:path*',
        headers: [
          { key: 'X-Content-Type-Options', value: 'nosniff' },
          { key: 'X-Frame-Options', value: 'DENY' },
          { key: 'Referrer-Policy', value: 'same-origin' },
        ],
      },
    ];
  },
};

export default nextConfig;
