// A concurrency cap per deployment. Full means "try another deployment now",
// not "queue": queueing behind a saturated upstream only adds latency.
export class Bulkhead {
  private active = 0;
  constructor(private readonly max: number = Infinity) {}
  tryAcquire(): boolean {
    if (this.active >= this.max) return false;
    this.active++;
    return true;
  }
  release(): void {
    if (this.active > 0) this.active--;
  }
}
