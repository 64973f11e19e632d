/**
 * The loopback OPTIMADE provider of `bench:import`, in its own process (so serving the pages does
 * not share the importer's thread): `tsx bench/optimade-provider.ts COUNT` serves COUNT synthetic
 * entries (test/support/optimade-server.ts, syntheticEntry) and prints `{"baseUrl", "host"}`.
 */
import { startOptimadeServer, syntheticEntry } from '../test/support/optimade-server.js';

const count = Number(process.argv[2] ?? 100_000);
if (!Number.isInteger(count) || count < 1) throw new Error('usage: optimade-provider.ts COUNT');
const server = await startOptimadeServer({ entries: { count, make: (i) => syntheticEntry(i) } });
process.stdout.write(`${JSON.stringify({ baseUrl: server.baseUrl, host: server.host })}\n`);
const stop = () => void server.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
