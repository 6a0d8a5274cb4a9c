import { generateOpenApiDocument, type OpenAPIObject } from 'trpc-to-openapi';
import { appRouter } from './root';

export const REST_BASE_PATH = '/api/v1';

type Json = Record<string, unknown>;

type SchemaObject = NonNullable<NonNullable<OpenAPIObject['components']>['schemas']>[string];

const ERROR_SCHEMA: SchemaObject = {
  type: 'object',
  description: 'The one error shape of the API',
  properties: {
    code: {
      type: 'string',
      description: 'Stable error code (BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, CONFLICT…)',
    },
    message: { type: 'string' },
    field: { type: ['string', 'null'], description: 'The input field at fault (dotted path), if any' },
  },
  required: ['code', 'message', 'field'],
  additionalProperties: false,
};

/**
 * Error responses in the generated document describe trpc-to-openapi's own error body; the REST route
 * rewrites errors to `{code, message, field}`, so the document says that instead.
 */
function useOneErrorShape(doc: OpenAPIObject): OpenAPIObject {
  const components = (doc.components ??= {});
  const schemas = (components.schemas ??= {});
  schemas.Error = ERROR_SCHEMA;
  for (const item of Object.values(doc.paths ?? {}) as Json[]) {
    for (const op of Object.values(item) as Json[]) {
      const responses = op?.responses as Record<string, Json> | undefined;
      if (!responses) continue;
      for (const [status, response] of Object.entries(responses)) {
        if (status.startsWith('2') || !response) continue;
        response.content = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };
      }
    }
  }
  return doc;
}

let cached: OpenAPIObject | undefined;

/** The OpenAPI 3.1 document of /api/v1, generated from the tRPC procedures that carry REST metadata. */
export function openApiDocument(baseUrl = REST_BASE_PATH): OpenAPIObject {
  if (cached && baseUrl === REST_BASE_PATH) return cached;
  const doc = useOneErrorShape(
    generateOpenApiDocument(appRouter, {
      title: 'BOOTP Turbo control plane API',
      description:
        'The REST face of the tRPC procedures: same permission checks, same validation. Authenticate with ' +
        '`Authorization: Bearer <API token>`.',
      version: '1.0.0',
      baseUrl,
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'API token (bpt_…)' } },
    }),
  );
  if (baseUrl === REST_BASE_PATH) cached = doc;
  return doc;
}
