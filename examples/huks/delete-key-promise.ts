import huks from 'hsm-kms/huks';
import { BusinessError } from 'hsm-kms/huks';
huks.configure({ endpoint: process.env.KMS_ENDPOINT, secretId: process.env.KMS_SECRET_ID, secretKey: process.env.KMS_SECRET_KEY, region: process.env.KMS_REGION });
/* 此处options选择emptyOptions传空 */
let keyAlias = 'keyAlias';
let emptyOptions: huks.HuksOptions = {
    properties: []
};
try {
    huks.deleteKeyItem(keyAlias, emptyOptions)
        .then ((data) => {
            console.info(`promise: deleteKeyItem key success`);
        })
        .catch((error: BusinessError) => {
            console.error(`promise: deleteKeyItem failed`);
        });
} catch (error) {
    console.error(`promise: deleteKeyItem input arg invalid`);
}
