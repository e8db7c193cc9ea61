// Operation types come from the schema opsgraph exports (../../schema.graphql): a schema change
// that breaks an operation of the front end fails `npm run build`.
import type { CodegenConfig } from "@graphql-codegen/cli";
import { addTypenameSelectionDocumentTransform } from "@graphql-codegen/client-preset";

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
      // every selection asks for __typename, as graphcache needs: the server runs the
      // manifest's document itself when the app sends only its hash (gateway/persisted.py)
      documentTransforms: [addTypenameSelectionDocumentTransform],
      presetConfig: {
        fragmentMasking: false,
        // every operation the front end can send, by hash: tests/web check them against the
        // query-cost budgets; the build copies the file beside the app, where the server loads
        // it as its trusted documents (the app sends hashes only: graphql/client.ts)
        persistedDocuments: { mode: "embedHashInDocument", hashAlgorithm: "sha256" },
      },
    },
    // what graphcache needs to know about interfaces (Node) and connections
    "src/gql/introspection.ts": { plugins: ["urql-introspection"] },
  },
};

export default config;
