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
   * Actions that touch no key and no core service are authorized here, against the
   * account-wide resource; the core authorizes everything else itself.
   */
  accountWide?: boolean;
  run(ctx: ActionContext): Promise<Record<string, unknown>>;
}
