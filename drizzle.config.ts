import { defineConfig } from 'drizzle-kit'

// `npm run db:generate` writes a new migration to migrations/ after a change to the schema;
// `npm run db:check` verifies the committed migrations are consistent. Migrations are applied by
// the server at start-up and by `npm run db:migrate` (services/src/db/migrate-cli.ts), not by drizzle-kit.
export default defineConfig({
  dialect: 'postgresql',
  schema: './services/src/db/schema.ts',
  out: './migrations',
  strict: true,
  verbose: true,
})
