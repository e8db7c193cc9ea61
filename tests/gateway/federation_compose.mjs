// Composes one subgraph SDL (argv[2]) into a supergraph with @theguild/federation-composition,
// as a federation router's build would: exit 1 with the composition errors, 0 when it composes.
import { readFileSync } from "node:fs";
import { parse } from "graphql";
import { composeServices } from "@theguild/federation-composition";

const typeDefs = parse(readFileSync(process.argv[2], "utf8"));
const result = composeServices([{ name: "opsgraph", typeDefs, url: "http://opsgraph/graphql" }]);
if (result.errors?.length) {
  for (const error of result.errors) console.error(error.message);
  process.exit(1);
}
console.log(`composed: ${result.supergraphSdl.length} characters of supergraph`);
