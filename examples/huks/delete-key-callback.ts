import huks from 'hsm-kms/huks';
huks.configure({ endpoint: process.env.KMS_ENDPOINT, secretId: process.env.KMS_SECRET_ID, secretKey: process.env.KMS_SECRET_KEY, region: process.env.KMS_REGION });
/* 此处options选择emptyOptions传空 */
let keyAlias = 'keyAlias';
let emptyOptions: huks.HuksOptions = {
    properties: []
};
try {
    huks.deleteKeyItem(keyAlias, emptyOptions, (error, data) => {
        if (error) {
            console.error(`callback: deleteKeyItem failed`);
        } else {
            console.info(`callback: deleteKeyItem key success`);
        }
    });
} catch (error) {
    console.error(`callback: deleteKeyItem input arg invalid`);
}
