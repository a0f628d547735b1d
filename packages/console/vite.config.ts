import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The server serves dist/ at `/`; `vite dev` proxies the API to a server on :8787.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    manifest: true,
    sourcemap: false,
    // Hashed file names under assets/: the server caches them as immutable.
    assetsDir: 'assets',
    // Inline data: URLs would need a looser CSP for some asset kinds; keep every asset a file.
    assetsInlineLimit: 0,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8787', '/sdk': 'http://127.0.0.1:8787' },
  },
});
