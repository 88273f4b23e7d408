/** A status as a person reads it: `no data` for `no_data`; the others are words already. JSON keeps the token. */
export const statusText = (status: string): string => status.replace(/_/g, ' ');

/** Whether a finished run ends its command with exit 0: it succeeded, or its partition had no data. */
export const runOk = (status: string): boolean => status === 'succeeded' || status === 'no_data';
