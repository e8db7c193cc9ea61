// A federation router in front of the subgraphs named on the command line (name=url ...):
// Apollo Gateway composing them from their `_service { sdl }` (IntrospectAndCompose), served
// by Apollo Server on 127.0.0.1:$ROUTER_PORT. With $ROUTER_API_KEY, the router sends it to the
// `opsgraph` subgraph as its own credential (x-api-key), as a production router would.
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from "@apollo/gateway";

const subgraphs = process.argv.slice(2).map((arg) => {
  const [name, url] = arg.split("=", 2);
  return { name, url };
});
const key = process.env.ROUTER_API_KEY;

class Credentialed extends RemoteGraphQLDataSource {
  willSendRequest({ request }) {
    if (key && this.url === subgraphs.find((s) => s.name === "opsgraph")?.url) {
      request.http.headers.set("x-api-key", key);
    }
  }
}

const gateway = new ApolloGateway({
  supergraphSdl: new IntrospectAndCompose({ subgraphs }),
  buildService: ({ url }) => new Credentialed({ url }),
});
const server = new ApolloServer({ gateway });
const { url } = await startStandaloneServer(server, {
  listen: { host: "127.0.0.1", port: Number(process.env.ROUTER_PORT) },
});
console.log(`router ready at ${url}`);
