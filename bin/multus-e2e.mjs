#!/usr/bin/env node
// The multus-e2e command: registers tsx so the TypeScript sources run as they are, then hands over to cli/main.ts.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
