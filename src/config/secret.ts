// A secret value read from the environment. It never serialises or prints its
// value, so a config object can be logged without leaking keys.
const SECRET = Symbol("secret");

export class Secret {
  private readonly [SECRET]: string;
  constructor(
    readonly envName: string,
    value: string,
  ) {
    this[SECRET] = value;
  }
  /** The secret itself; call only where it is sent upstream. */
  reveal(): string {
    return this[SECRET];
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
