import type { ModelProvider, ModelState, Ranker } from "./ports.js";

/**
 * A model provider whose state is set from outside: `main.ts` starts with none (and why), and the
 * registry loader calls `set` when a `@champion` version is loaded or fails to load.
 */
export class SwitchableModelProvider implements ModelProvider {
  #state: ModelState;

  constructor(initialReason = "no model loaded yet") {
    this.#state = { status: "none", reason: initialReason };
  }

  current(): ModelState {
    return this.#state;
  }

  set(ranker: Ranker): void {
    this.#state = { status: "ready", ranker };
  }

  unset(reason: string): void {
    this.#state = { status: "none", reason };
  }
}
