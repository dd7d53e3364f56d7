import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { KMS_CONFIG, KmsConfig } from '../config/config';
import { resolveHsm } from './hsm-setup';
import { KeyStore } from './key-store';
import { Token } from './token';
import { TokenKeyStore } from './token-key-store';

class HsmLifecycle implements OnApplicationShutdown {
  constructor(@Inject(Token) private readonly token: Token) {}
  onApplicationShutdown(): void {
    this.token.stop();
  }
}

@Global()
@Module({
  providers: [
    {
      provide: Token,
      inject: [KMS_CONFIG],
      useFactory: async (cfg: KmsConfig) => {
        const { profile, pin } = resolveHsm(cfg);
        const token = new Token(profile, pin);
        await token.start();
        return token;
      },
    },
    { provide: KeyStore, inject: [Token], useFactory: (t: Token) => new TokenKeyStore(t) },
    HsmLifecycle,
  ],
  exports: [Token, KeyStore],
})
export class HsmModule {}
