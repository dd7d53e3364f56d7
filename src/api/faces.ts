import { Face } from '../faces/face';
import { HUAWEI_FACE } from './huawei/huawei.face';
import { HUKS_FACE } from './huks/huks.face';
import { TENCENT_FACE } from './tencent/tencent.face';

/** The registered faces: the server, the database and the CLI know only this list. */
export const FACES: readonly Face[] = [TENCENT_FACE, HUAWEI_FACE, HUKS_FACE];
