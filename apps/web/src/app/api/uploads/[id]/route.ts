/** The handlers live in `server/images/upload-route.ts` (the protocol is documented there). */
export const dynamic = 'force-dynamic';

export { HEAD, PATCH } from '@/server/images/upload-route';
