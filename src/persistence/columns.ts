import { ValueTransformer } from 'typeorm';

/** PostgreSQL's bigint arrives as a string; epoch times fit a JS number safely. */
export const bigintNumber: ValueTransformer = {
  to: (v: number | null | undefined) => v,
  from: (v: string | number | null) => (v === null || v === undefined ? v : Number(v)),
};
