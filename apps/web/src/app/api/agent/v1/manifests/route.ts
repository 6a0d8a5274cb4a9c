/** The handlers live in `server/images/content-route.ts` (the protocol is documented there). */
export const dynamic = 'force-dynamic';

export { LIST as GET } from '@/server/images/content-route';
