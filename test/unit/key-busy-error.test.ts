import { KeyBusyError } from '../../src/common/domain-errors';
import { toHuaweiError } from '../../src/api/huawei/huawei-errors';
import { toTencentError } from '../../src/api/tencent/tencent-errors';

/** A key that kept changing under a request answers a code that says to retry, on both faces, for every operation. */
it.each(['Disable', 'Import', 'DeleteMaterial', 'Bind'])('%s: retry-later codes', (op) => {
  const e = new KeyBusyError(op);
  expect(toTencentError(e, 'r', 'DisableKey')).toMatchObject({ code: 'UnsupportedOperation.ServiceTemporaryUnavailable', message: e.message });
  expect(toHuaweiError(e, 'r', 'disable-key')).toMatchObject({ status: 500, code: 'KMS.0102', message: e.message });
});
