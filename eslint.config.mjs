// The workspace's lint: `pnpm run lint` (in CI: .ci/run, after the build).
// Layout is prettier's (`pnpm run format:check`); the one layout rule here is
// the line length, which prettier cannot hold strings and comments to.
// TypeScript is linted with types (typescript-eslint's strictTypeChecked, each
// file through the tsconfig.json that includes it), so the packages must be
// built first: the tests and the examples import them by name (dist/*.d.ts).
// A rule turned off or narrowed below says why on its line.
import js from '@eslint/js'
import stylistic from '@stylistic/eslint-plugin'
import n from 'eslint-plugin-n'
import { defineConfig, globalIgnores } from 'eslint/config'
import globals from 'globals'
import tseslint from 'typescript-eslint'

const TS = ['**/*.ts', '**/*.mts', '**/*.cts']
const TEST_TS = ['test/', 'packages/test-utils/', 'packages/*/test/'].flatMap((dir) => TS.map((glob) => dir + glob))

export default defineConfig(
  globalIgnores(['**/node_modules/', '**/dist/', '**/.cache/', '**/coverage/', 'bench/results/']),
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },

  // Every file, JavaScript and TypeScript.
  js.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2024, sourceType: 'module', globals: { ...globals.node } },
    plugins: { '@stylistic': stylistic, n },
    rules: {
      // Prettier wraps code at 120; this catches what it leaves long (strings, comments). Not split:
      // URLs, regular expressions, and a test's title on its `it('…', …)` line (prettier keeps that
      // line whole; the title stays one string to grep for).
      '@stylistic/max-len': [
        'error',
        {
          code: 120,
          tabWidth: 2,
          ignoreUrls: true,
          ignoreRegExpLiterals: true,
          ignorePattern: /^\s*(?:describe|it|test)[\w.]*(?:\(.*\))?\(['"`]/u.source,
        },
      ],
      'n/no-deprecated-api': 'error',
      'n/prefer-node-protocol': 'error',
      'n/no-extraneous-import': 'error',
      'n/no-path-concat': 'error',
      // `_name` marks a parameter kept for its position; `{ omitted, ...rest }` drops a property.
      'no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.cjs'],
    rules: { 'n/no-missing-import': 'error' },
  },
  { files: ['**/*.cjs', '**/*.cts'], languageOptions: { sourceType: 'commonjs' } },
  { files: ['test/src/runners/jest/**'], languageOptions: { globals: { ...globals.jest } } },

  // TypeScript, with types.
  {
    files: TS,
    extends: [tseslint.configs.strictTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // `typeof import('x')` stays allowed: it types a module loaded lazily or through createRequire.
      '@typescript-eslint/consistent-type-imports': ['error', { disallowTypeAnnotations: false }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      // Numbers, booleans, null/undefined and regexps read as themselves in a message.
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true, allowNullish: true, allowRegExp: true },
      ],
      // `(x) => sideEffect(x)` callbacks are the codebase's idiom; a void value *used* is still an error.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // With noUncheckedIndexedAccess, `!` marks a check the compiler cannot follow (an index just tested).
      '@typescript-eslint/no-non-null-assertion': 'off',
      // The packages check at run time what their types already promise, for JavaScript callers
      // (`typeof options !== 'object'`, `(error as Error)?.message` on whatever was thrown).
      '@typescript-eslint/no-unnecessary-condition': 'off',
      // The hooks wrap Node's and the libraries' methods whatever their signature: `Function`, passed through.
      '@typescript-eslint/no-unsafe-function-type': 'off',
      // Methods are taken off prototypes on purpose: to wrap, restore and compare them (`.call`/`.apply`).
      '@typescript-eslint/unbound-method': 'off',
      // The same checks, for what JavaScript callers and other libraries may hand over: `String(error.message)`.
      '@typescript-eslint/no-unnecessary-type-conversion': 'off',
      // The hooks forward `arguments` as they are: no rest array allocated per call on the hot path.
      'prefer-rest-params': 'off',
      // Nest types its options as classes and takes object literals for them; the core hands a
      // gRPC call to what reads a request's events on purpose.
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
      // `delete process.env[name]` is how a variable is unset.
      '@typescript-eslint/no-dynamic-delete': 'off',
      // `import x = require('x')` is TypeScript's CommonJS import (.cts type tests, ambient declarations).
      '@typescript-eslint/no-require-imports': ['error', { allowAsImport: true }],
      // Nest modules are decorated empty classes.
      '@typescript-eslint/no-extraneous-class': ['error', { allowWithDecorator: true }],
    },
  },
  {
    // The tests and the adapter contract suite (packages/test-utils).
    files: TEST_TS,
    rules: {
      // Tests hand async callbacks to APIs typed as void-returning (node:http, Koa, grpc-js handlers)
      // on purpose; a rejection there fails the run (vitest reports unhandled rejections).
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      // Tests pass `async () => value` to exercise the promise paths.
      '@typescript-eslint/require-await': 'off',
      // `resultOf<T>(run)`: a typed view of a child's JSON, the caller names the type.
      '@typescript-eslint/no-unnecessary-type-parameters': 'off',
      // Tests handle untyped values on purpose: vitest's asymmetric matchers (expect.any(),
      // expect.stringMatching()) are typed any, supertest's bodies too, the examples' dependencies are
      // loaded untyped from the examples' folders, children report JSON.
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // ... and print what children reported (typed unknown) in their messages.
      '@typescript-eslint/restrict-template-expressions': 'off',
      // A rejection handler names the error it expects, as `catch (e) { (e as Error) }` does.
      '@typescript-eslint/use-unknown-in-catch-callback-variable': 'off',
      // Framework objects shared by several versions (Express 4 and 5, each harness's request type).
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // The adapters' own specs (packages/<name>/test) are type-checked through the test kit's tsconfig.json,
    // which resolves their import of the kit (an adapter's own tsconfig.json covers its src).
    files: TS.map((glob) => `packages/*/test/${glob}`),
    languageOptions: {
      parserOptions: { projectService: false, project: './packages/test-utils/tsconfig.json' },
    },
  },
  {
    // Last, so that no rule above asks them for types. TypeScript that no tsconfig.json includes:
    // the build configs and the declarations written beside .mjs files (checked through their importers).
    files: [
      'tsup.base.ts',
      'packages/*/tsup.config.ts',
      'packages/test-utils/*.d.ts',
      'packages/test-utils/*/*.d.ts',
      'packages/test-utils/*/*.d.mts',
      'examples/shared/*.d.mts',
    ],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    // The helpers' declarations type the frameworks' and grpc-js's objects `any`: the .mjs helpers
    // serve Express 4 and 5 alike, and this package does not depend on grpc-js.
    files: ['packages/test-utils/**/*.d.ts', 'packages/test-utils/**/*.d.mts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The type tests are type-checked by tstyche, never run, and write wrong code on purpose
    // (`toRaiseError()`): only the rules without types apply.
    files: TS.map((glob) => `test/types/${glob}`),
    extends: [tseslint.configs.disableTypeChecked],
    // `expect(f()).type.toBe<void>()` states a return type.
    rules: { '@typescript-eslint/no-invalid-void-type': 'off' },
  },
)
