#!/usr/bin/env node
// Runs the TypeScript CLI through tsx's ESM loader, registered in this process, so the command
// works from any directory without a build step. The project's tsconfig is named explicitly:
// tsx would otherwise look for one in the working directory, and the GraphQL resolvers need its
// `experimentalDecorators`.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
await import(new URL('../src/cli/main.ts', import.meta.url).href);
