export { assertUnder, isWithin, PathEscapeError, pathUnder, segmentProblem } from "./contained.ts";
export { removeUnder } from "./remove-under.ts";
