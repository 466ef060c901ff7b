import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'plugin/dist/', 'clusters/vm/dist/', 'reports/out/', 'reports/allure-results/', 'reports/allure-report/', '.vm-cache/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
);
