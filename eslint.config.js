// Lint rules stay few: the type checker does the heavy lifting; these catch what it cannot.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.tools/', 'data/', 'web/dist/', 'test-artifacts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'error',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // The CLI, benchmarks and simulator reports print to the terminal on purpose.
    files: ['src/cli/**', 'bench/**', 'src/sim/report*.ts', 'bin/**', 'scripts/**'],
    rules: { 'no-console': 'off' },
  },
);
