import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The renderer bundle, identical for Electron and browser mode. `base: './'` so it loads from
// the app's own protocol in Electron and from the loopback server in browser mode.
export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react()],
  build: { outDir: '../out/renderer', emptyOutDir: true, sourcemap: true },
});
