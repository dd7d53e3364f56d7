/** An error answered in the Tencent envelope: `{"Response":{"Error":{"Code","Message"},"RequestId"}}`. */
export class TencentError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}
