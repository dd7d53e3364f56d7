import { MaterialRef } from '../hsm/key-store';
import { KeyEntity } from './key.entity';

/** A CMK as the core uses it: its row plus the token ids of its versions. */
export interface KeyRecord {
  key: KeyEntity;
  /** version number -> the material's reference (its CKA_ID, and wrapped bytes in wrapped mode) */
  versions: Map<number, MaterialRef>;
}
