import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// `/assets` is a page of the UI (the asset catalog), so the bundle's files live under /static.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { assetsDir: 'static', sourcemap: true, chunkSizeWarningLimit: 2048 },
  server: { proxy: { '/api': 'http://127.0.0.1:4200' } },
});
