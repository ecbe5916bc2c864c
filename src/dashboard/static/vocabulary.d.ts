// Types of `/vocabulary.js`, which the server writes from src/domain/ (static-files.ts `VOCABULARY_MODULE`).
export const ACCOUNT_MODES: readonly import('./api-types.js').AccountMode[];
export const ORDER_STATUSES: readonly string[];
export const TERMINAL_STATUSES: readonly string[];
