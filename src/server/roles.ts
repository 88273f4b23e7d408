// Placeholder until src/server/auth/roles.ts lands; re-exported so routes import one name.
export type Role = 'view' | 'edit' | 'admin';
