// A secret value read from the environment. It never serialises, prints or
// spreads its value (a private field is not an own property), so a config
// object can be logged or copied without leaking keys.
export class Secret {
  readonly #value: string;
  constructor(
    readonly envName: string,
    value: string,
  ) {
    this.#value = value;
  }
  /** The secret itself; call only where it is sent upstream. */
  reveal(): string {
    return this.#value;
  }
  toJSON(): string {
    return `[secret from env ${this.envName}]`;
  }
  toString(): string {
    return this.toJSON();
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toJSON();
  }
}
