import type { FastifySchemaCompiler, FastifySerializerCompiler } from 'fastify';

type Validate = ((data: unknown, context?: unknown) => unknown) & { errors?: unknown };
type Serialize = (data: unknown) => string;

/**
 * Route schemas compiled when first used instead of while the app starts. Fastify compiles every
 * route's validators (ajv) and response serializers (fast-json-stringify) before it is ready:
 * about 900 ms of a 2.2 s start, for a hundred routes of which a restart in development uses a
 * few. A route's first request compiles its own schemas (a few milliseconds), and the server
 * compiles the rest in the background once it listens (compileAll), so that in production the
 * first requests find them ready.
 */
export class LazySchemas {
  readonly #pending = new Set<() => unknown>();

  /** `compile`, deferred: Fastify gets a validator that compiles on its first call. */
  validators(compile: FastifySchemaCompiler<unknown>): FastifySchemaCompiler<unknown> {
    return (route) => {
      const ensure = this.#deferred(() => compile(route) as Validate);
      // Fastify reads `errors` after a call, and hands ajv's validators (`schemaEnv`) their
      // parent, so that a coerced or defaulted root value is written back to the request.
      const lazy: Validate & { schemaEnv: boolean } = Object.assign(
        (data: unknown, context?: unknown) => {
          const run = ensure();
          const valid = run(data, context);
          lazy.errors = run.errors;
          return valid;
        },
        { errors: null as unknown, schemaEnv: true },
      );
      return lazy as ReturnType<FastifySchemaCompiler<unknown>>;
    };
  }

  /** `compile`, deferred: Fastify gets a serializer that compiles on its first call. */
  serializers(compile: FastifySerializerCompiler<unknown>): FastifySerializerCompiler<unknown> {
    return (route) => {
      const ensure = this.#deferred(() => compile(route) as Serialize);
      return (data: unknown) => ensure()(data);
    };
  }

  /** `compile` run once, on the first call of what it returns, and pending until then. */
  #deferred<T>(compile: () => T): () => T {
    let compiled: T | undefined;
    const ensure = (): T => {
      if (compiled === undefined) {
        compiled = compile();
        this.#pending.delete(ensure);
      }
      return compiled;
    };
    this.#pending.add(ensure);
    return ensure;
  }

  /**
   * Compiles every schema still pending, one a macrotask so that requests are served in between;
   * resolves to how many it compiled. A schema that cannot compile throws here.
   */
  async compileAll(): Promise<number> {
    let compiled = 0;
    for (const ensure of [...this.#pending]) {
      ensure();
      compiled++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return compiled;
  }
}
