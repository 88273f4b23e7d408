import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import reactHooks from 'eslint-plugin-react-hooks';

export default tseslint.config(
  { ignores: ['node_modules/**', '.sluice/**', 'ui/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Only src/presets, src/cli, scripts, tests and benches read process.env; pass config in.',
        },
      ],
    },
  },
  { languageOptions: { globals: globals.node } },
  // The web UI runs in the browser, with React's rules of hooks.
  { files: ['ui/**/*.{ts,tsx}'], languageOptions: { globals: globals.browser }, ...reactHooks.configs.flat['recommended-latest'] },
  {
    files: ['src/presets/**', 'src/cli/**', 'scripts/**', 'test/**', 'bench/**', 'bin/**'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
