import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'

/** The contract, found from this file whether it runs from `services/src` or the built `services/dist`. */
export const SPEC_PATH = fileURLToPath(new URL('../../../openapi/openapi.yaml', import.meta.url))

/**
 * Serves the spec file itself (static mode: nothing is derived from the routes) at `/openapi.json`, and
 * Swagger UI at `/docs` with its bundled assets, so it works offline.
 */
export async function registerDocs(app: FastifyInstance, specPath = SPEC_PATH) {
  await app.register(swagger, {
    mode: 'static',
    specification: { path: specPath, baseDir: dirname(specPath) },
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { persistAuthorization: false, tryItOutEnabled: true, displayRequestDuration: true },
  })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}
