// Operation types come from the schema opsgraph exports (../../schema.graphql): a schema change
// that breaks an operation of the front end fails `npm run build`.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../../schema.graphql",
  documents: ["src/**/*.{ts,tsx}", "!src/gql/**/*"],
  ignoreNoDocuments: false,
  generates: {
    "src/gql/": {
      preset: "client",
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { Date: "string", DateTime: "string", JSON: "unknown", Long: "number" },
      },
      presetConfig: {
        fragmentMasking: false,
        // every operation the front end can send, by hash: tests/web check them against the
        // query-cost budgets, and a trusted-documents allow-list can load this file
        persistedDocuments: { mode: "embedHashInDocument", hashAlgorithm: "sha256" },
      },
    },
    // what graphcache needs to know about interfaces (Node) and connections
    "src/gql/introspection.ts": { plugins: ["urql-introspection"] },
  },
};

export default config;
