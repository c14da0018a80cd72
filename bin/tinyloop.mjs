#!/usr/bin/env node
// Entry point for `npx tinyloop`: loads the TypeScript CLI through tsx.
import { register } from "tsx/esm/api";
register();
await import("../host/cli/main.ts");
