import { formatPath, type Problem } from './problems.ts';

export const PRIVATE_KEY_MESSAGE = 'private keys are never read from config files; use traderKeyEnv or keystore';

/** Key names that say "this is a secret key". */
const SECRET_NAME = /priv(?:ate)?[-_ ]?key|secret|mnemonic|seed[-_ ]?phrase|^pk$/i;
/** A 32-byte hex string: the shape of a secp256k1 private key. */
const HEX_KEY = /^(?:0x)?[0-9a-fA-F]{64}$/;

/**
 * Finds anything in a parsed document that looks like a plain private key: a field named like one, or a
 * 32-byte hex string anywhere. The whole document is scanned (not only `venue`): no field of a fleet or a
 * scenario legitimately holds 32 bytes of hex, and a key pasted in the wrong block is just as leaked.
 * Each finding is a problem at its path; the value is never echoed.
 */
export function privateKeyProblems(document: unknown): Problem[] {
  const problems: Problem[] = [];
  // Iterative, with parent links instead of path copies, so a pathologically deep document can neither
  // overflow the stack nor take quadratic memory.
  interface Node {
    value: unknown;
    key: PropertyKey | undefined;
    parent: Node | undefined;
  }
  const pathOf = (node: Node, last?: PropertyKey): PropertyKey[] => {
    const path: PropertyKey[] = last === undefined ? [] : [last];
    for (let n: Node | undefined = node; n?.key !== undefined; n = n.parent) path.push(n.key);
    return path.reverse();
  };
  const stack: Node[] = [{ value: document, key: undefined, parent: undefined }];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const value = node.value;
    if (typeof value === 'string') {
      if (HEX_KEY.test(value.trim())) problems.push({ path: formatPath(pathOf(node)), message: PRIVATE_KEY_MESSAGE });
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], key: i, parent: node });
    } else if (typeof value === 'object' && value !== null) {
      const entries = Object.entries(value);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, item] = entries[i]!;
        if (SECRET_NAME.test(key) && !isHarmlessSecretReference(key, item)) {
          problems.push({ path: formatPath(pathOf(node, key)), message: PRIVATE_KEY_MESSAGE });
        } else {
          stack.push({ value: item, key, parent: node });
        }
      }
    }
  }
  return problems;
}

/** `secretEnv: NAME`-style fields name a variable, they do not hold the secret. */
function isHarmlessSecretReference(key: string, value: unknown): boolean {
  return /Env$/.test(key) && typeof value === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(value);
}

/** True when `path` is `guarded` or lies inside it (so other problems there are superseded). */
export function isUnderPath(path: string, guarded: string): boolean {
  return path === guarded || path.startsWith(`${guarded}.`) || path.startsWith(`${guarded}[`);
}
