import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { CmkLimitExceededError } from '../common/domain-errors';
import { KMS_CONFIG, KmsConfig } from '../config/config';
import { KeyRepository } from '../keys/key.repository';

/** The per-account CMK quota (KMS_CMK_QUOTA), counted over all regions and states. */
@Injectable()
export class CmkQuotaService {
  constructor(@Inject(KMS_CONFIG) private readonly cfg: KmsConfig, private readonly repo: KeyRepository) {}

  /** Before any work: an account already at its quota is refused at once. */
  async precheck(uin: string): Promise<void> {
    this.check(await this.repo.countForAccount(uin));
  }

  /** Call inside the transaction that inserts the key: the count stays exact under any concurrency. */
  async assertCanCreate(m: EntityManager, uin: string): Promise<void> {
    this.check(await this.repo.countForAccountLocked(m, uin));
  }

  private check(n: number): void {
    if (n >= this.cfg.cmkQuota) throw new CmkLimitExceededError(`the account holds ${n} CMKs; the quota is ${this.cfg.cmkQuota}`);
  }
}
