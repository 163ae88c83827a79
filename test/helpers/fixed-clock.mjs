// Preloaded into a spawned ir (NODE_OPTIONS=--import) to fix "now" at IR_TEST_NOW, so deadline
// clocks that run for days can be read at chosen moments by the real binary.
const fixed = process.env.IR_TEST_NOW ? Date.parse(process.env.IR_TEST_NOW) : NaN;
if (!Number.isNaN(fixed)) {
  const RealDate = Date;
  class FixedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(fixed);
      else super(...args);
    }
    static now() {
      return fixed;
    }
  }
  globalThis.Date = FixedDate;
}
