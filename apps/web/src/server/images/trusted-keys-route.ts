import { getDb } from '../db/client';
import { trustedKeys } from './signing-keys';

/**
 * The manifest-signing trust set, public by design (public keys only): what agents and clients load
 * into `createTrustStore`. Revoked keys are listed as `revoked` so verifiers refuse them by id.
 */
export async function GET(): Promise<Response> {
  const keys = await trustedKeys(getDb());
  return Response.json({ keys }, { headers: { 'Cache-Control': 'no-cache' } });
}
