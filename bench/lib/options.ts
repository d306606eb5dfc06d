/** How big and how long: the full run (about 10 minutes) or the smoke run (`--quick`). */
export interface BenchOptions {
  quick: boolean;
  /** Also profile GET /users/me and the floor with --cpu-prof (`--profile`). */
  profile: boolean;
  /** Skip `npm run build` and use dist/ as it is (`--no-build`). */
  build: boolean;
  warmupSeconds: number;
  runSeconds: number;
  runs: number;
  /** Logins take about a bcrypt each: fewer, longer runs. */
  loginRunSeconds: number;
  loginRuns: number;
  connections: number;
  loginConnections: number;
  /** Repeats of each startup measurement; the median is reported. */
  startupRepeats: number;
  bcryptSeconds: number;
  seed: SeedSize;
  /**
   * `--only=core,catalog,...` (BENCH_ONLY): only these groups of scenarios (core, catalog,
   * properties, marketplace, workers, logins, headers, pieces, driver, startup); all when unset.
   */
  only?: string[];
}

export interface SeedSize {
  homeowners: number;
  providers: number;
  services: number;
  properties: number;
  /** Properties of the one homeowner whose list is benchmarked. */
  heavyOwnerProperties: number;
  /** Users who log in to get tokens for the load (homeowners). */
  tokenUsers: number;
  /** Distinct users of the login scenario. */
  loginUsers: number;
  /** The catalog page the deep-page scenario reads (followed with limit=20). */
  deepPage: number;
}

export function benchOptions(argv: string[]): BenchOptions {
  const quick = argv.includes('--quick') || process.env.BENCH_QUICK === '1';
  const profile = argv.includes('--profile') || process.env.BENCH_PROFILE === '1';
  const build = !argv.includes('--no-build');
  const onlyArg =
    argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length) ??
    process.env.BENCH_ONLY;
  const only = onlyArg ? onlyArg.split(',').map((group) => group.trim()) : undefined;
  if (quick) {
    return {
      quick,
      profile,
      build,
      ...(only && { only }),
      warmupSeconds: 1,
      runSeconds: Number(process.env.BENCH_RUN_SECONDS ?? 2),
      runs: Number(process.env.BENCH_RUNS ?? 1),
      loginRunSeconds: 5,
      loginRuns: 1,
      connections: 64,
      loginConnections: 8,
      startupRepeats: 1,
      bcryptSeconds: 1,
      seed: {
        homeowners: 200,
        providers: 100,
        services: 5_000,
        properties: 5_000,
        heavyOwnerProperties: 500,
        tokenUsers: 4,
        loginUsers: 8,
        deepPage: 50,
      },
    };
  }
  return {
    quick,
    profile,
    build,
    ...(only && { only }),
    warmupSeconds: 2,
    runSeconds: 5,
    runs: 5,
    loginRunSeconds: 10,
    loginRuns: 3,
    connections: 64,
    loginConnections: 8,
    startupRepeats: 3,
    bcryptSeconds: 5,
    seed: {
      homeowners: 2_000,
      providers: 1_000,
      services: 100_000,
      properties: 100_000,
      heavyOwnerProperties: 5_000,
      tokenUsers: 16,
      loginUsers: 8,
      deepPage: 500,
    },
  };
}
