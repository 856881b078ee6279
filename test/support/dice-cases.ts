// One table of dice expressions for both places that judge them: the core's parser
// (miniprogram/core/dice.ts, which answers at once in Chinese) and the database's
// (private.roll_dice, which decides). Both suites run it, so the two cannot drift apart.
import type { DiceProblem } from '../../miniprogram/core/dice';

export interface ValidCase {
  min: number;
  max: number;
  /** How many dice are thrown. */
  dice: number;
  check: boolean;
}

export const DICE_CASES: {
  valid: Array<[expression: string, bounds: ValidCase]>;
  invalid: Array<[expression: string, dbMessage: string, problem: DiceProblem]>;
} = {
  valid: [
    ['2d6+3', { min: 5, max: 15, dice: 2, check: false }],
    ['d100', { min: 1, max: 100, dice: 1, check: false }],
    ['2d6+1d4-1', { min: 2, max: 15, dice: 3, check: false }],
    ['d100<=60', { min: 1, max: 100, dice: 1, check: true }],
    ['1d20>=15', { min: 1, max: 20, dice: 1, check: true }],
    ['3d6-10', { min: -7, max: 8, dice: 3, check: false }],
    [' 2D6 + d6 ', { min: 3, max: 18, dice: 3, check: false }],
    ['20d1000', { min: 20, max: 20000, dice: 20, check: false }],
    ['d2', { min: 1, max: 2, dice: 1, check: false }],
    ['10d6+10d6', { min: 20, max: 120, dice: 20, check: false }],
    ['2d6+10000', { min: 10002, max: 10012, dice: 2, check: false }],
  ],
  invalid: [
    ['', 'empty dice expression', 'empty'],
    ['   ', 'empty dice expression', 'empty'],
    ['2d', 'not a dice expression', 'syntax'],
    ['abc', 'not a dice expression', 'syntax'],
    ['2d6++3', 'not a dice expression', 'syntax'],
    ['2d6*3', 'not a dice expression', 'syntax'],
    ['d100<=', 'not a dice expression', 'syntax'],
    ['5', 'at least one die', 'no_die'],
    ['0d6', 'at least 1', 'no_die'],
    ['d1', '2 to 1000 faces', 'faces'],
    ['1d1001', '2 to 1000 faces', 'faces'],
    ['21d6', 'at most 20 dice', 'too_many'],
    ['10d6+11d6', 'at most 20 dice', 'too_many'],
    ['1000d6', 'at most 20 dice', 'too_many'],
    ['2d6+10001', 'at most 10000', 'too_big'],
    ['d100<=10001', 'at most 10000', 'too_big'],
  ],
};
