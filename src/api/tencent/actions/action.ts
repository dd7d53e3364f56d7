import { Principal } from '../../../accounts/principal';
import { Params } from '../params';

export interface ActionContext {
  principal: Principal;
  params: Params;
}

/** One row of the face's table: the action's parameters and the core call behind it. */
export interface ActionDef {
  name: string;
  /** Every parameter the action accepts; any other is UnknownParameter. */
  params: readonly string[];
  /** Region-less actions answer without X-TC-Region. */
  regionOptional?: boolean;
  /**
   * Actions that concern no key and that the core does not authorize (GetRegions,
   * GenerateRandom, ListAlgorithms, ...) are authorized here, against the account-wide
   * resource; the core authorizes key actions and key listings itself.
   */
  accountWide?: boolean;
  /**
   * Changes nothing (a cryptographic operation, a read): when the request is alone in its
   * process, it runs while the rate counter's verdict and the signature's claim are on their
   * way, and a refusal discards what it answered (the claim is then made even for a request
   * the rate limit refuses). Anything that writes waits for both.
   */
  stateless?: boolean;
  run(ctx: ActionContext): Promise<Record<string, unknown>>;
}
