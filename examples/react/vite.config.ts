// A tiny Vite + React app using the `useSigmax` hook. In your own app, `npm install sigmax-ws react react-dom`
// and drop the alias below: it points `sigmax-ws` at this repository's sources so the example runs in place.
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  resolve: { alias: { 'sigmax-ws': fileURLToPath(new URL('../../src/index.ts', import.meta.url)) } },
});
