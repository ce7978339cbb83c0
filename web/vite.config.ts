import { defineConfig } from 'vite';

// The dashboard is served by the Voltyard process itself at /; `npm run build:web` writes web/dist.
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', reportCompressedSize: false },
  logLevel: 'warn',
});
