export type { Role } from './auth/roles.ts';
