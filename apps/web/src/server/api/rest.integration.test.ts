import Ajv2020 from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../../generated/prisma/client';
import { disconnectDb, getDb } from '../db/client';
import { createToken, revokeToken } from '../services/tokens';
import { actorFor, callerFor, createTestUser, runId, testNetwork, userIdentity } from '../testing/fixtures';
import type { Identity } from './identity';
import { openApiDocument } from './openapi';
import { handleRest } from './rest';

/**
 * The REST face (/api/v1) driven with an API token, every response checked against the OpenAPI
 * document the app serves: the document is the contract, not a description written beside the code.
 */
type Json = Record<string, unknown>;
const doc = openApiDocument() as unknown as { paths: Record<string, Record<string, Json>>; components: Json };
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });

function responseSchema(path: string, method: string, status: number): Json {
  const op = doc.paths[path]?.[method] as { responses?: Record<string, Json> } | undefined;
  const response = op?.responses?.[String(status)] as
    { content?: Record<string, { schema?: Json }> } | undefined;
  const schema = response?.content?.['application/json']?.schema;
  if (!schema)
    throw new Error(`the OpenAPI document has no ${status} response for ${method.toUpperCase()} ${path}`);
  return schema;
}

/** Asserts the status, validates the body against the document and returns it. */
async function expectResponse<T = Json>(
  res: Response,
  path: string,
  method: string,
  status: number,
): Promise<T> {
  const body: unknown = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(status);
  const validate = ajv.compile({ ...responseSchema(path, method, status), components: doc.components });
  expect(validate(body), `${method} ${path} ${status}: ${ajv.errorsText(validate.errors)}`).toBe(true);
  return body as T;
}

let db: PrismaClient;
let admin: Identity;
let operatorToken: string;
let viewerToken: string;
let subnetId: string;
let siteId: string;
const tag = runId();
const net = testNetwork();

function request(method: string, path: string, token: string | null, body?: unknown): Promise<Response> {
  const headers = new Headers({ 'x-forwarded-for': '192.0.2.7', 'user-agent': 'rest-test' });
  if (token) headers.set('authorization', `Bearer ${token}`);
  if (body !== undefined) headers.set('content-type', 'application/json');
  return handleRest(
    new Request(`http://localhost/api/v1${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    }),
  );
}

beforeAll(async () => {
  db = getDb();
  admin = userIdentity(await createTestUser(db, 'ADMIN', tag));
  const api = callerFor(db, admin);
  siteId = (await api.site.create({ name: `rest-${tag}` })).id;
  subnetId = (await api.subnet.create({ siteId, name: 'rest-net', cidr: `${net.prefix}.4.0/24` })).id;
  const actor = actorFor(admin);
  operatorToken = (
    await createToken(db, actor, { name: `rest-op-${tag}`, role: 'OPERATOR', expiresInDays: 1 })
  ).token;
  viewerToken = (await createToken(db, actor, { name: `rest-view-${tag}`, role: 'VIEWER', expiresInDays: 1 }))
    .token;
});

afterAll(async () => {
  await disconnectDb();
});

describe('REST /api/v1 with an API token', () => {
  it('publishes a document with bearer security and the host operations', () => {
    expect(doc.paths['/hosts']).toHaveProperty('get');
    expect(doc.paths['/hosts']).toHaveProperty('post');
    expect(Object.keys(doc.paths['/hosts/{id}'] ?? {}).sort()).toEqual(['delete', 'get', 'patch']);
    expect(JSON.stringify(doc.components)).toContain('bearer');
  });

  it('creates, lists, updates and deletes a host; every response matches the document', async () => {
    const mac = `02:aa:${tag.slice(0, 2)}:${tag.slice(2, 4)}:${tag.slice(4, 6)}:01`;
    const created = await expectResponse<{ id: string; mac: string }>(
      await request('POST', '/hosts', operatorToken, {
        mac: mac.toUpperCase(),
        hostname: `rest-${tag}`,
        subnetId,
        ipv4: `${net.prefix}.4.20`,
        tags: ['rest'],
      }),
      '/hosts',
      'post',
      200,
    );
    expect(created.mac).toBe(mac);

    const list = await expectResponse<{ total: number; items: { id: string }[] }>(
      await request(
        'GET',
        `/hosts?siteId=${siteId}&tag=rest&pageSize=10&sort=ipv4&order=desc`,
        operatorToken,
      ),
      '/hosts',
      'get',
      200,
    );
    expect(list.total).toBe(1);
    expect(list.items[0]!.id).toBe(created.id);

    const updated = await expectResponse<{ hostname: string; ipv4: string }>(
      await request('PATCH', `/hosts/${created.id}`, operatorToken, { hostname: `rest-${tag}-renamed` }),
      '/hosts/{id}',
      'patch',
      200,
    );
    expect(updated).toMatchObject({ hostname: `rest-${tag}-renamed`, ipv4: `${net.prefix}.4.20` });

    await expectResponse(
      await request('GET', `/hosts/${created.id}`, viewerToken),
      '/hosts/{id}',
      'get',
      200,
    );
    const exported = await expectResponse<{ count: number; csv: string }>(
      await request('GET', `/hosts/export?siteId=${siteId}`, viewerToken),
      '/hosts/export',
      'get',
      200,
    );
    expect(exported.csv).toContain(mac);

    await expectResponse(
      await request('DELETE', `/hosts/${created.id}`, operatorToken),
      '/hosts/{id}',
      'delete',
      200,
    );
    const gone = await expectResponse<Json>(
      await request('GET', `/hosts/${created.id}`, operatorToken),
      '/hosts/{id}',
      'get',
      404,
    );
    expect(gone).toEqual({ code: 'NOT_FOUND', message: 'Host not found', field: 'id' });

    const audit = await db.auditLog.findMany({ where: { targetId: created.id }, orderBy: { id: 'asc' } });
    expect(audit.map((a) => a.action)).toEqual(['host.create', 'host.update', 'host.delete']);
    expect(audit[0]).toMatchObject({ actorType: 'API_TOKEN', ip: '192.0.2.7', userAgent: 'rest-test' });
    expect(audit[0]!.actorLabel).toContain(`rest-op-${tag}`);
  });

  it('answers validation errors with 400 and the field at fault, in the one error shape', async () => {
    const outside = await expectResponse<Json>(
      await request('POST', '/hosts', operatorToken, {
        mac: '02:00:00:00:00:99',
        hostname: 'x',
        subnetId,
        ipv4: '198.51.100.1',
      }),
      '/hosts',
      'post',
      400,
    );
    expect(outside).toMatchObject({ code: 'BAD_REQUEST', field: 'ipv4' });
    const missing = await expectResponse<Json>(
      await request('POST', '/hosts', operatorToken, { hostname: 'x', subnetId }),
      '/hosts',
      'post',
      400,
    );
    expect(missing).toMatchObject({ code: 'BAD_REQUEST', field: 'mac' });
    const badQuery = await expectResponse<Json>(
      await request('GET', '/hosts?pageSize=5000', operatorToken),
      '/hosts',
      'get',
      400,
    );
    expect(badQuery).toMatchObject({ field: 'pageSize' });
  });

  it('refuses without identity (401), without permission (403) and with a revoked token (401)', async () => {
    const body = { mac: '02:00:00:00:00:98', hostname: 'x', subnetId };
    const anonymous = await expectResponse<Json>(
      await request('POST', '/hosts', null, body),
      '/hosts',
      'post',
      401,
    );
    expect(anonymous).toMatchObject({ code: 'UNAUTHORIZED' });
    const viewer = await expectResponse<Json>(
      await request('POST', '/hosts', viewerToken, body),
      '/hosts',
      'post',
      403,
    );
    expect(viewer).toMatchObject({ code: 'FORBIDDEN', field: null });
    const { id, token } = await createToken(db, actorFor(admin), {
      name: `rest-rev-${tag}`,
      role: 'ADMIN',
      expiresInDays: 1,
    });
    await expectResponse(await request('GET', '/sites', token), '/sites', 'get', 200);
    await revokeToken(db, actorFor(admin), id);
    const revoked = await expectResponse<Json>(await request('GET', '/sites', token), '/sites', 'get', 401);
    expect(revoked).toMatchObject({ code: 'UNAUTHORIZED' });
  });
});
