/**
 * The SIGMAX WebSocket protocol: constants, zod schemas, inferred types and codec.
 * Imported by both the client and the server; browser-safe (no `node:*`, no `ws`).
 */
export * from './constants.js';
export * from './normalize.js';
export * from './schemas.js';
export * from './codec.js';
