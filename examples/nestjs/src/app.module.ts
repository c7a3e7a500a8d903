import { Module, type DynamicModule } from '@nestjs/common'
import { QuoteController } from './quote.controller.js'
import { UPSTREAM_URL } from './upstream.token.js'

/** The application, the same on both platforms; `upstreamUrl` is what its handlers call. */
@Module({})
export class AppModule {
  static forUpstream(upstreamUrl: string): DynamicModule {
    return {
      module: AppModule,
      controllers: [QuoteController],
      providers: [{ provide: UPSTREAM_URL, useValue: upstreamUrl }],
    }
  }
}
