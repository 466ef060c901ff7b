// Cucumber configuration of the suite. `multus-e2e run` sets MULTUS_E2E_REPORTS_DIR (and the cluster
// through MULTUS_E2E_STATE); run directly, reports land in ./reports and a local cluster is created.
import path from 'node:path';

const reports = path.resolve(process.env.MULTUS_E2E_REPORTS_DIR ?? 'reports');

const config = {
  paths: ['features/**/*.feature'],
  import: ['steps/world.ts', 'steps/parameters.ts', 'steps/hooks.ts', 'steps/**/*.steps.ts'],
  format: [
    'summary',
    `html:${path.join(reports, 'cucumber.html')}`,
    `junit:${path.join(reports, 'cucumber.xml')}`,
    `message:${path.join(reports, 'cucumber.ndjson')}`,
    'allure-cucumberjs/reporter',
  ],
  formatOptions: {
    resultsDir: path.join(reports, 'allure-results'),
  },
  strict: true,
};

export default config;

/** `--profile bundled --import DIR/support.mjs`: the support code as one esbuild bundle (clusters/vm/guest-bundle.ts), no tsx. */
export const bundled = { ...config, import: [] };
