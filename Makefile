# Thin wrappers around the npm scripts; see README.md.
.PHONY: dev demo test generate migrate lint install

export REDOCLY_TELEMETRY := off
export REDOCLY_SUPPRESS_UPDATE_NOTICE := true

# Installs exactly what package-lock.json says, again whenever it changes.
node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund
	touch $@

install: node_modules/.installed

## make dev: emulators for every provider + embedded DB in .data/, local keys generated once, server on :8080
dev: install
	@npx tsx scripts/dev.ts

## make demo: the reference pool (examples/pool) against a running `make dev`: a live table, then a claim
demo: install
	@npx tsx examples/pool/src/demo.ts

## make test: spec lint, generated-code drift, migrations check, types, lint, then the tap suite
test: install
	npm run -s lint:spec
	npm run -s generate:check
	npm run -s contract:check
	npm run -s db:check
	npm run -s typecheck
	npm run -s lint
	npx tsx scripts/run-tests.ts

generate: install
	npm run generate

migrate: install
	npm run db:migrate

lint: install
	npm run -s lint:spec
	npm run -s lint
