import { Module, RequestMethod, type DynamicModule, type MiddlewareConsumer, type NestModule } from '@nestjs/common'
import { override } from '@tcp-user-timeout/express'
import { AppModule } from './app.module.js'
import { BUDGET_HEADER } from './upstream.token.js'

/**
 * AppModule on Express, with the routes' own policies as Nest middleware.
 * Nest mounts module middleware before the controllers' routes, and after
 * the `app.use(tcpUserTimeout(...))` of main, so `override()` replaces the
 * app-wide scope for just these routes.
 */
@Module({})
export class ExpressAppModule implements NestModule {
  static forUpstream(upstreamUrl: string): DynamicModule {
    return { module: ExpressAppModule, imports: [AppModule.forUpstream(upstreamUrl)] }
  }

  configure(consumer: MiddlewareConsumer) {
    consumer
      .apply(override({ seconds: 300, header: BUDGET_HEADER }))
      .forRoutes({ path: 'export', method: RequestMethod.GET })
    consumer.apply(override(false)).forRoutes({ path: 'health', method: RequestMethod.GET })
  }
}
