/** Who is calling, established by a face's authentication. */
export interface Principal {
  /** The account that owns every resource the call may touch. */
  uin: string;
  /** The identity that made the call (the account itself for root credentials). */
  callerUin: string;
  region: string;
  secretId: string;
}
