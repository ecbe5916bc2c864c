import type { StateValue } from 'xstate';

/** What the Mermaid and DOT renderers draw beyond states and state-changing transitions. */
export interface DiagramOptions {
  /**
   * Draw targetless transitions as self-loops on the state that declares them (machine-wide ones on the
   * machine itself, drawn then as an enclosing state). Off by default: they update context or send
   * effects without changing state, and the account machine has a dozen of them (MARK, LEDGER, TICK…),
   * which would bury the mode changes the diagram is for. Off, they are listed in comments of the
   * diagram's text, so the text (and its golden file) still covers every transition.
   */
  selfLoops?: boolean;
  /** Append ` / action, …` to edge labels. Off by default for readability. */
  actions?: boolean;
  /** Highlight the states this value makes active (e.g. a live account's `snapshot.value`). */
  active?: StateValue;
}
