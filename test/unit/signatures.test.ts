import { scopeServices } from '../../src/api/tencent/authenticator';
import { v1Signature, v1StringToSign } from '../../src/api/tencent/signature-v1';
import { tc3Signature, tc3SigningKey, utcDate } from '../../src/api/tencent/signature-v3';

describe('signature v1', () => {
  it("reproduces Tencent's published example", () => {
    // The seed renames the host and region of Tencent's public example but keeps its
    // signature, which was computed for cvm.tencentcloudapi.com in ap-guangzhou.
    const params = new Map(
      Object.entries({
        Action: 'DescribeInstances',
        SecretId: 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE',
        Timestamp: '1465185768',
        Nonce: '11886',
        Region: 'ap-guangzhou',
        'InstanceIds.0': 'ins-09dx96dg',
        Offset: '0',
        Limit: '20',
        Version: '2017-03-12',
      }),
    );
    const s = v1StringToSign('GET', 'cvm.tencentcloudapi.com', '/', params);
    expect(s).toBe(
      'GETcvm.tencentcloudapi.com/?Action=DescribeInstances&InstanceIds.0=ins-09dx96dg&Limit=20&Nonce=11886&Offset=0&Region=ap-guangzhou&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&Timestamp=1465185768&Version=2017-03-12',
    );
    expect(v1Signature('Gu5t9xGARNpq86cd98joQYCN3EXAMPLE', 'HmacSHA1', s).toString('base64')).toBe('EliP9YW3pW28FpsEdkXt/+WcGeI=');
  });
});

describe('signature v3 (TC3-HMAC-SHA256)', () => {
  it("reproduces Tencent's published example", () => {
    // The seed renames the host of Tencent's public example but keeps its signature, which
    // was computed for cvm.tencentcloudapi.com.
    const key = tc3SigningKey('Gu5t9xGARNpq86cd98joQYCN3EXAMPLE', '2018-10-09', 'cvm');
    const sig = tc3Signature(key, {
      method: 'GET',
      path: '/',
      rawQuery: 'Limit=10&Offset=0',
      canonicalHeaders: 'content-type:application/x-www-form-urlencoded\nhost:cvm.tencentcloudapi.com\n',
      signedHeaders: 'content-type;host',
      payload: Buffer.alloc(0),
      timestamp: '1539084154',
      date: '2018-10-09',
      service: 'cvm',
    });
    expect(sig.toString('hex')).toBe('5da7a33f6993f0614b047e5df4582db9e9bf4672ba50567dba16c6ccf174c474');
  });
});

describe('TC3 credential scope date', () => {
  it('is the UTC date of the timestamp, across day boundaries in either direction', () => {
    expect(utcDate(1_551_113_065)).toBe('2019-02-25');
    expect(utcDate(86_399)).toBe('1970-01-01');
    expect(utcDate(86_400)).toBe('1970-01-02');
    expect(utcDate(86_399)).toBe('1970-01-01');
    expect(utcDate(0)).toBe('1970-01-01');
  });
});

describe('TC3 credential scope services', () => {
  // What tencentcloud-sdk-nodejs puts in the scope: endpoint.split('.')[0], port and case kept.
  it.each([
    ['127.0.0.1:8080', ['kms', '127']],
    ['keys.example.com', ['kms', 'keys']],
    ['KMS.Example.com:443', ['kms', 'KMS']],
    ['localhost:8080', ['kms', 'localhost:8080', 'localhost']],
    ['kms-svc:8443', ['kms', 'kms-svc:8443', 'kms-svc']],
    ['[::1]:8080', ['kms', '[::1]:8080', '[::1]']],
    [undefined, ['kms']],
  ])('Host %s accepts %j', (host, services) => {
    expect(scopeServices(host)).toEqual(services);
  });
});
