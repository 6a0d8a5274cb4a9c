/** The handlers live in `server/images/content-route.ts` (the protocol is documented there). */
export const dynamic = 'force-dynamic';

export { GET } from '@/server/images/content-route';
