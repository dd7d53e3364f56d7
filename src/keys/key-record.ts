import { KeyEntity } from './key.entity';

/** A CMK as the core uses it: its row plus the token ids of its versions. */
export interface KeyRecord {
  key: KeyEntity;
  /** version number -> material id (CKA_ID) */
  versions: Map<number, string>;
}
