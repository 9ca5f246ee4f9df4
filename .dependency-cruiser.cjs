/**
 * The layers of docs/architecture.md, checked by `npm run lint:layers` (and so by `npm test`).
 *
 * Production code only: tests and benchmarks may reach into any layer. Type-only imports count
 * (`tsPreCompilationDeps`): a type import ties layers together as much as a value import does,
 * and the rules -> runtime -> rules cycle this check was written for was type-only.
 */
const LAYER_HINT = 'see the Layers section of docs/architecture.md'

/**
 * The library patches (src/library-patches/<file>.ts) each connector type may import: those of
 * its own client library and of what that client loads. A type not listed imports none.
 */
const PATCHES_OF_CONNECTOR = {
  postgresql: ['pg'],
  kafka: ['kafkajs'],
  // mqtt.js logs through `debug`, whose loggers the patch replaces before mqtt loads.
  mqtt: ['debug'],
  nats: ['nats'],
}
const PATCHED_CONNECTORS = Object.keys(PATCHES_OF_CONNECTOR).join('|')

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: `A cycle makes two modules one unit that cannot be understood, tested or loaded apart; break it by moving the shared piece down a layer (${LAYER_HINT}).`,
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-circular-between-folders',
      severity: 'error',
      comment: `Folders that import each other (as rules and runtime once did) are one layer in two places; move what both need down a layer or into one of them (${LAYER_HINT}).`,
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'core-imports-nothing-of-ours',
      severity: 'error',
      comment: `src/core is the bottom layer: domain types, error codes, validation. It imports no other folder of Junction (${LAYER_HINT}).`,
      from: { path: '^src/core/' },
      to: { path: '^src/', pathNot: '^src/core/' },
    },
    {
      name: 'connector-api-imports-only-core',
      severity: 'error',
      comment: `src/connector-api is the contract connectors build on; it may use src/core and nothing above it (${LAYER_HINT}).`,
      from: { path: '^src/connector-api/' },
      to: { path: '^src/', pathNot: '^src/(connector-api|core)/' },
    },
    {
      name: 'connector-imports-only-connector-api',
      severity: 'error',
      comment: `A connector (src/connectors/<type>/) is its own folder plus src/connector-api and its client library; it never reaches into another connector or into the runtime (${LAYER_HINT}).`,
      from: { path: '^src/connectors/([^/]+)/' },
      to: { path: '^src/', pathNot: ['^src/connectors/$1/', '^src/(connector-api|library-patches)/'] },
    },
    ...Object.entries(PATCHES_OF_CONNECTOR).map(([type, patches]) => ({
      name: `connector-${type}-imports-only-its-librarys-patches`,
      severity: 'error',
      comment: `The ${type} connector may import only the library patches ${patches.map((p) => `${p}.ts`).join(', ')} (its client library's); any other patch is another library's business (see "Library patches" in docs/architecture.md).`,
      from: { path: `^src/connectors/${type}/` },
      to: { path: '^src/library-patches/', pathNot: `^src/library-patches/(${patches.join('|')})\\.ts$` },
    })),
    {
      name: 'connector-without-listed-patches-imports-none',
      severity: 'error',
      comment: 'This connector type has no library patch listed in PATCHES_OF_CONNECTOR (.dependency-cruiser.cjs); add one there only for a patch of its own client library (see "Library patches" in docs/architecture.md).',
      from: { path: `^src/connectors/(?!(?:${PATCHED_CONNECTORS})/)[^/]+/` },
      to: { path: '^src/library-patches/' },
    },
    {
      name: 'library-patches-import-nothing-of-ours',
      severity: 'error',
      comment: 'src/library-patches reaches into third-party libraries and imports nothing of Junction\'s but its own files, like src/core (see "Library patches" in docs/architecture.md).',
      from: { path: '^src/library-patches/' },
      to: { path: '^src/', pathNot: '^src/library-patches/' },
    },
    {
      name: 'connector-registry-lists-only-connectors',
      severity: 'error',
      comment: `src/connectors/index.ts lists the connector types and nothing else (${LAYER_HINT}).`,
      from: { path: '^src/connectors/[^/]+\\.ts$' },
      to: { path: '^src/', pathNot: '^src/(connectors|connector-api)/' },
    },
    {
      name: 'only-the-composition-root-knows-connector-types',
      severity: 'error',
      comment: `Connector types reach Junction through the registry (src/connectors/index.ts), which only src/server.ts imports; the layers see a ConnectorDefinition, never a type (${LAYER_HINT}).`,
      from: { path: '^src/', pathNot: ['^src/connectors/', '^src/server\\.ts$'] },
      to: { path: '^src/connectors/' },
    },
    {
      name: 'store-imports-only-core',
      severity: 'error',
      comment: `src/store persists domain records; it knows src/core and nothing above it (${LAYER_HINT}).`,
      from: { path: '^src/store/' },
      to: { path: '^src/', pathNot: '^src/(store|core|library-patches)/' },
    },
    {
      name: 'broker-imports-only-what-it-needs',
      severity: 'error',
      comment: `src/broker is the MQTT broker; it knows src/core and the MQTT property types of src/connector-api, and reaches the rules and device access only through the interfaces in broker-types.ts (${LAYER_HINT}).`,
      from: { path: '^src/broker/' },
      to: { path: '^src/', pathNot: '^src/(broker|core|connector-api|library-patches)/' },
    },
    {
      name: 'rules-below-runtime',
      severity: 'error',
      comment: `src/rules (SQL, functions, engine) sits below the runtime: it may use src/core, src/connector-api and the broker's interface (broker-types.ts, topic-filter.ts), never the runtime, control, store or API (${LAYER_HINT}).`,
      from: { path: '^src/rules/' },
      to: {
        path: '^src/',
        pathNot: ['^src/(rules|core|connector-api)/', '^src/broker/(broker-types|topic-filter)\\.ts$'],
      },
    },
    {
      name: 'runtime-below-control',
      severity: 'error',
      comment: `src/runtime runs what control decided: it may use rules, broker, connector-api and core, never control, store or API (${LAYER_HINT}).`,
      from: { path: '^src/runtime/' },
      to: { path: '^src/', pathNot: '^src/(runtime|rules|broker|connector-api|core|library-patches)/' },
    },
    {
      name: 'control-below-api',
      severity: 'error',
      comment: `src/control holds the use cases; it may use runtime, rules, store, broker, connector-api and core, never the API (${LAYER_HINT}).`,
      from: { path: '^src/control/' },
      to: { path: '^src/', pathNot: '^src/(control|runtime|rules|store|broker|connector-api|core|library-patches)/' },
    },
    {
      name: 'api-through-control',
      severity: 'error',
      comment: `src/api is HTTP only: it calls src/control and uses src/core's types and errors; it does not reach the runtime, rules or store directly (${LAYER_HINT}).`,
      from: { path: '^src/api/' },
      to: { path: '^src/', pathNot: '^src/(api|control|core)/' },
    },
    {
      name: 'cli-only-through-the-api',
      severity: 'error',
      comment: `src/cli is a client of the REST API, like the console: it may use src/core and nothing else of ours; only \`junction serve\` (src/cli/serve.ts) loads the server entry, src/main.ts (${LAYER_HINT}).`,
      from: { path: '^src/cli/', pathNot: '^src/cli/serve\\.ts$' },
      to: { path: '^src/', pathNot: '^src/(cli|core)/' },
    },
    {
      name: 'cli-serve-loads-only-the-server-entry',
      severity: 'error',
      comment: `\`junction serve\` runs the server as \`npm start\` does, through its entry src/main.ts, never by composing layers itself (${LAYER_HINT}).`,
      from: { path: '^src/cli/serve\\.ts$' },
      to: { path: '^src/', pathNot: ['^src/(cli|core)/', '^src/main\\.ts$'] },
    },
    {
      name: 'cli-not-imported',
      severity: 'error',
      comment: `Nothing in src imports the CLI: it is a client of the server, not part of it (${LAYER_HINT}).`,
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'layers-do-not-import-the-composition-root',
      severity: 'error',
      comment: `The files at the top of src (server.ts, main.ts, settings.ts, logger.ts) compose the process out of the layers; no layer imports them; \`junction serve\` (src/cli/serve.ts) loads the server entry src/main.ts (${LAYER_HINT}).`,
      from: { path: '^src/[^/]+/', pathNot: '^src/cli/serve\\.ts$' },
      to: { path: '^src/[^/]+\\.ts$' },
    },
    {
      name: 'console-not-imported-by-src',
      severity: 'error',
      comment: `The console talks to Junction only through the REST API; the server never imports it (${LAYER_HINT}).`,
      from: { path: '^src/' },
      to: { path: '^console/' },
    },
    {
      name: 'src-not-importing-tests',
      severity: 'error',
      comment: 'Production code never imports tests, test support or benchmarks.',
      from: { path: '^src/' },
      to: { path: ['^test/', '^bench/', '\\.test\\.ts$'] },
    },
    {
      name: 'not-to-dev-dep',
      severity: 'error',
      comment: 'Production code may only use packages from "dependencies": a devDependency is missing where Junction is installed with --omit=dev.',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing fails when the module loads.',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Tests may import anything under src; only production modules are checked.
    exclude: { path: '\\.test\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    cache: false,
  },
}
