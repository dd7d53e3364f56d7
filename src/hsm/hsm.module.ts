import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { KMS_CONFIG, KmsConfig } from '../config/config';
import { resolveHsm, resolveSoPin } from './hsm-setup';
import { KeyStore } from './key-store';
import { Token } from './token';
import { TokenKeyStore } from './token-key-store';
import { WrappedMaterial } from './wrapped-material';

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
    {
      provide: WrappedMaterial,
      inject: [KMS_CONFIG, Token],
      useFactory: (cfg: KmsConfig, t: Token) => new WrappedMaterial(t, cfg.keyCacheEntries, () => resolveSoPin(cfg, resolveHsm(cfg).profile)),
    },
    { provide: KeyStore, inject: [KMS_CONFIG, Token, WrappedMaterial], useFactory: (cfg: KmsConfig, t: Token, w: WrappedMaterial) => new TokenKeyStore(t, cfg.keyStorage, w) },
    HsmLifecycle,
  ],
  exports: [Token, KeyStore, WrappedMaterial],
})
export class HsmModule {}
