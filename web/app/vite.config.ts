/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` proxies the API to a running `opsgraph serve` (OPSGRAPH_DEV_API, default :8000)
const api = process.env.OPSGRAPH_DEV_API ?? "http://127.0.0.1:8000";
const proxied = ["/graphql", "/auth", "/feeds", "/v1", "/healthz", "/readyz"];

export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "../../gateway/static/app",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    chunkSizeWarningLimit: 800,
  },
  server: {
    proxy: Object.fromEntries(
      proxied.map((prefix) => [prefix, { target: api, ws: prefix === "/graphql", changeOrigin: false }]),
    ),
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test/setup.ts"],
    // A hang guard, not a speed check: the page tests render whole views in jsdom, which
    // passes 5 s on a 2-core machine under load (seen at load 10).
    testTimeout: 20_000,
  },
});
