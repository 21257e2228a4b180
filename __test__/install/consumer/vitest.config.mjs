import { defineConfig } from "vitest/config";

// Only the ESM test: session.test.cjs is jest's.
export default defineConfig({
  test: {
    include: ["session.test.ts"],
    testTimeout: 20000,
  },
});
