import { describe, expect, test } from "bun:test";
import { lastPercent, progressLine } from "./progress-line.ts";

const MiB = 2 ** 20;

describe("the importer's progress lines", () => {
  test("CDI's percent with two decimals, at most once a second, the end always", () => {
    expect(progressLine({ dataVolume: "d", percent: 45.2123, bytes: 1, phase: "transfer" }, 5000)).toBe("progress: 45.21% (transfer)");
    expect(progressLine({ dataVolume: "d", percent: 46, bytes: 1, phase: "transfer" }, 10)).toBeNull();
    expect(progressLine({ dataVolume: "d", percent: 100, bytes: 0, phase: "done" }, 0)).toBe("progress: 100.00%");
    expect(progressLine({ dataVolume: "d", percent: null, bytes: 3 * MiB, phase: "transfer" }, 5000)).toBe("progress: N/A (3.0 MiB, transfer)");
  });

  test("read back: the last line with a percent wins; N/A lines, other lines and a cut first line are passed over", () => {
    const line = (p: number): string => progressLine({ dataVolume: "d", percent: p, bytes: 1, phase: "transfer" }, 5000)!;
    expect(lastPercent(`ss: 12.00% (transfer)\n${line(12.5)}\n${line(45.2123)}\nwarning: slow\n`)).toBe(45.21);
    expect(lastPercent(`${line(80)}\nprogress: N/A (3.0 MiB, convert)\n`)).toBe(80);
    expect(lastPercent("progress: N/A (3.0 MiB, transfer)\n")).toBeNull();
    expect(lastPercent("")).toBeNull();
    expect(lastPercent("progress: 999.00%")).toBe(100);
    expect(lastPercent("xprogress: 10.00%\nprogress: 1e5%")).toBeNull();
  });
});
