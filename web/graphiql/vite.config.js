// Builds GraphiQL into the Python package, served by opsgraph at /static/graphiql/.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

export default defineConfig({
  base: "/static/graphiql/",
  build: {
    outDir: fileURLToPath(new URL("../../gateway/static/graphiql", import.meta.url)),
    emptyOutDir: true,
    assetsDir: "assets",
    chunkSizeWarningLimit: 10000,
    sourcemap: false,
    rollupOptions: {
      // React libraries mark modules "use client"; meaningless in a plain bundle
      onwarn(warning, warn) {
        if (warning.code !== "MODULE_LEVEL_DIRECTIVE") warn(warning);
      },
    },
  },
  worker: { format: "es" },
  logLevel: "warn",
});
