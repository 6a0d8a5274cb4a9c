/** The handlers live in `server/images/trusted-keys-route.ts` (the protocol is documented there). */
export const dynamic = 'force-dynamic';

export { GET } from '@/server/images/trusted-keys-route';
