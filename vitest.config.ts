import { defineConfig } from 'vitest/config';

// Integration tests that need root and real network namespaces live beside the units and
// skip themselves (with a reason) when not run as root on Linux.
export default defineConfig({
  test: {
    include: ['plugin/**/*.test.ts', 'clusters/**/*.test.ts', 'steps/**/*.test.ts', 'cli/**/*.test.ts', 'reports/**/*.test.ts', 'expectations/**/*.test.ts', 'certify/**/*.test.ts', 'repro/**/*.test.ts', 'stress/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
