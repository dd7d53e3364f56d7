import { Face } from '../faces/face';
import { TENCENT_FACE } from './tencent/tencent.module';

/** The registered faces: the server, the database and the CLI know only this list. */
export const FACES: readonly Face[] = [TENCENT_FACE];
