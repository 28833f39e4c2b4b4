// Package e2e drives the API with the real clients it promises to work with:
// a Better Auth server, a TypeScript client generated from the OpenAPI
// document, and headless Chromium. Beside Postgres they need what `make
// test` installs (npm ci in testdata/*, Chromium); every other package's
// tests need at most Postgres.
package e2e
