import { defineConfig } from "vite";

// The server embeds `dist/` and serves it at `/`: `index.html` for every client route,
// content-hashed files under `/assets/` cached for a year.
export default defineConfig({
  build: {
    outDir: "dist",
    assetsDir: "assets",
    target: "es2022",
    // The editor and the session room load on demand, so `/` stays small.
    chunkSizeWarningLimit: 600,
  },
  server: {
    // `npm exec vite` during development: the API on the local server.
    proxy: { "/api": { target: "http://127.0.0.1:8080", ws: true } },
  },
});
