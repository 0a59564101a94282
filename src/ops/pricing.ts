// Cost from the config's price table (USD per million tokens).
export interface Price {
  input: number;
  output: number;
}

export class PriceTable {
  constructor(private readonly prices: Record<string, Price>) {}

  /** Looks up `provider/model`, then `model`, then the alias. Unknown = free. */
  priceOf(provider: string | undefined, model: string | undefined, alias: string): Price | undefined {
    return (provider && model && this.prices[`${provider}/${model}`]) || (model && this.prices[model]) || this.prices[alias];
  }

  cost(price: Price | undefined, promptTokens: number, completionTokens: number): number {
    if (!price) return 0;
    return (promptTokens * price.input + completionTokens * price.output) / 1_000_000;
  }
}
