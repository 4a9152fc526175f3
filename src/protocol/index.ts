/**
 * The SIGMAX WebSocket protocol: constants, shapes and zod schemas, inferred types and codecs.
 * Imported by both the client and the server; browser-safe (no `node:*`, no `ws`).
 */
export * from './constants.js';
export * from './normalize.js';
export * from './shapes.js';
export * from './schemas.js';
export * from './codec.js';
export * from './messages.js';
