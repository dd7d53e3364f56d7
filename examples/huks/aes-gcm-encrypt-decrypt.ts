import huks from 'hsm-kms/huks';
import { BusinessError } from 'hsm-kms/huks';
huks.configure({ endpoint: process.env.KMS_ENDPOINT, secretId: process.env.KMS_SECRET_ID, secretKey: process.env.KMS_SECRET_KEY, region: process.env.KMS_REGION });
/* 以AES128/AES256 GCM加密、解密为例（seed 000 的写法：HuksProperties、options、promise） */
class HuksProperties {
    tag: huks.HuksTag = huks.HuksTag.HUKS_TAG_ALGORITHM
    value: huks.HuksKeyAlg | huks.HuksKeySize | huks.HuksKeyPurpose | huks.HuksKeyPadding |
    huks.HuksCipherMode | Uint8Array = huks.HuksKeyAlg.HUKS_ALG_AES
}

function stringToUint8Array(str: string) {
    let arr: number[] = [];
    for (let i = 0, j = str.length; i < j; ++i) {
        arr.push(str.charCodeAt(i));
    }
    return new Uint8Array(arr);
}

function uint8ArrayToString(arr: Uint8Array) {
    let str = '';
    for (let i = 0; i < arr.length; i++) {
        str += String.fromCharCode(arr[i]);
    }
    return str;
}

const NONCE = stringToUint8Array('hsm-kms-nonc'); // 12 bytes
const AAD = stringToUint8Array('huks example aad');
const AE_TAG_SIZE = 16;
let plainText = 'The quick brown fox jumps over the lazy dog, in two segments.';

function keyProperties(keySize: huks.HuksKeySize): HuksProperties[] {
    return [
        { tag: huks.HuksTag.HUKS_TAG_ALGORITHM, value: huks.HuksKeyAlg.HUKS_ALG_AES },
        { tag: huks.HuksTag.HUKS_TAG_KEY_SIZE, value: keySize },
        { tag: huks.HuksTag.HUKS_TAG_PURPOSE, value: huks.HuksKeyPurpose.HUKS_KEY_PURPOSE_ENCRYPT | huks.HuksKeyPurpose.HUKS_KEY_PURPOSE_DECRYPT },
        { tag: huks.HuksTag.HUKS_TAG_PADDING, value: huks.HuksKeyPadding.HUKS_PADDING_NONE },
        { tag: huks.HuksTag.HUKS_TAG_BLOCK_MODE, value: huks.HuksCipherMode.HUKS_MODE_GCM }
    ];
}

function sessionProperties(keySize: huks.HuksKeySize, purpose: huks.HuksKeyPurpose): HuksProperties[] {
    return [
        { tag: huks.HuksTag.HUKS_TAG_ALGORITHM, value: huks.HuksKeyAlg.HUKS_ALG_AES },
        { tag: huks.HuksTag.HUKS_TAG_KEY_SIZE, value: keySize },
        { tag: huks.HuksTag.HUKS_TAG_PURPOSE, value: purpose },
        { tag: huks.HuksTag.HUKS_TAG_PADDING, value: huks.HuksKeyPadding.HUKS_PADDING_NONE },
        { tag: huks.HuksTag.HUKS_TAG_BLOCK_MODE, value: huks.HuksCipherMode.HUKS_MODE_GCM },
        { tag: huks.HuksTag.HUKS_TAG_NONCE, value: NONCE },
        { tag: huks.HuksTag.HUKS_TAG_ASSOCIATED_DATA, value: AAD }
    ];
}

/* 加密：initSession，updateSession（第一段），finishSession（最后一段）；输出为密文后接16字节AE_TAG */
async function encrypt(keyAlias: string, keySize: huks.HuksKeySize, data: Uint8Array): Promise<Uint8Array> {
    let options: huks.HuksOptions = { properties: sessionProperties(keySize, huks.HuksKeyPurpose.HUKS_KEY_PURPOSE_ENCRYPT) };
    let handle = (await huks.initSession(keyAlias, options)).handle;
    let half = Math.floor(data.length / 2);
    options.inData = data.slice(0, half);
    let first = (await huks.updateSession(handle, options)).outData ?? new Uint8Array(0);
    options.inData = data.slice(half);
    let last = (await huks.finishSession(handle, options)).outData ?? new Uint8Array(0);
    let out = new Uint8Array(first.length + last.length);
    out.set(first, 0);
    out.set(last, first.length);
    return out;
}

/* 解密：AE_TAG（密文最后16字节）作为属性传入，inData为不含AE_TAG的密文 */
async function decrypt(keyAlias: string, keySize: huks.HuksKeySize, cipherWithTag: Uint8Array): Promise<Uint8Array> {
    let cipher = cipherWithTag.slice(0, cipherWithTag.length - AE_TAG_SIZE);
    let aeTag = cipherWithTag.slice(cipherWithTag.length - AE_TAG_SIZE);
    let properties = sessionProperties(keySize, huks.HuksKeyPurpose.HUKS_KEY_PURPOSE_DECRYPT);
    properties.push({ tag: huks.HuksTag.HUKS_TAG_AE_TAG, value: aeTag });
    let options: huks.HuksOptions = { properties: properties };
    let handle = (await huks.initSession(keyAlias, options)).handle;
    try {
        options.inData = cipher;
        let result = await huks.finishSession(handle, options);
        return result.outData ?? new Uint8Array(0);
    } catch (error) {
        await huks.abortSession(handle, options).catch(() => undefined);
        throw error;
    }
}

async function testAesGcm(keyAlias: string, keySize: huks.HuksKeySize) {
    try {
        await huks.generateKeyItem(keyAlias, { properties: keyProperties(keySize) });
        let cipherWithTag = await encrypt(keyAlias, keySize, stringToUint8Array(plainText));
        console.info(`promise: AES${keySize} GCM encrypt success, ciphertext and tag = ${cipherWithTag.length} bytes`);
        let decrypted = uint8ArrayToString(await decrypt(keyAlias, keySize, cipherWithTag));
        if (decrypted === plainText) {
            console.info(`promise: AES${keySize} GCM decrypt success`);
        } else {
            console.error(`promise: AES${keySize} GCM decrypt gave other data`);
        }
        await huks.deleteKeyItem(keyAlias, { properties: [] });
    } catch (error) {
        let e = error as BusinessError;
        console.error(`promise: AES${keySize} GCM failed, code = ${e.code}, message = ${e.message}`);
    }
}

async function main() {
    await testAesGcm('HuksDemoAES128GCM', huks.HuksKeySize.HUKS_AES_KEY_SIZE_128);
    await testAesGcm('HuksDemoAES256GCM', huks.HuksKeySize.HUKS_AES_KEY_SIZE_256);
}

main();
