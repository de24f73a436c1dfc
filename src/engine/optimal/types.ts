/**
 * Types of the exact planner: the mixed-integer model it hands to a solver, the solver's answer, and
 * what the plan says about the planner that decided (`Plan.planner`).
 */

/** A mixed-integer linear model, rows in CSR form: minimise colCost·x subject to rowLower ≤ A·x ≤ rowUpper, colLower ≤ x ≤ colUpper. */
export interface MipModel {
  numCols: number;
  numRows: number;
  colCost: number[];
  colLower: number[];
  colUpper: number[];
  /** 1 = integer, 0 = continuous. */
  integrality: number[];
  rowLower: number[];
  rowUpper: number[];
  starts: number[];
  indices: number[];
  values: number[];
}

export interface MipResult {
  /** optimal = proven; feasible = a solution, not proven (time limit); none = no solution found (infeasible, time limit without one, solver error). */
  status: 'optimal' | 'feasible' | 'none';
  /** Column values (when status is not none). */
  values: ArrayLike<number> | null;
  objective: number;
  /** Best lower bound on the objective the solver proved (equals objective when optimal). */
  bound: number;
  /** Wall-clock seconds spent (building the solver's model and solving). */
  seconds: number;
  /** The solver's own words when no solution came back. */
  message?: string;
}

/**
 * A MIP solver. The engine stays pure: the one that loads HiGHS (WebAssembly, asynchronously)
 * and reads the clock lives in src/solver/highs.ts and is handed to `plan()` by the caller.
 */
export interface MipSolver {
  solve(model: MipModel, timeLimitSeconds: number): MipResult;
}

/** Which planner decided this plan, and how sure it is (see docs/decisions.md, "The exact planner"). */
export interface PlannerInfo {
  /** The configured `automated_migrations.planner`. */
  requested: 'greedy' | 'optimal' | 'auto';
  /** The planner whose moves the plan holds. */
  used: 'greedy' | 'optimal';
  /**
   * The exact planner's outcome: optimal = proven; feasible = the best plan found within the time
   * limit, not proven; none = it found no plan (then greedy decided); not-run = greedy was asked for,
   * or the solver was not loaded.
   */
  status: 'optimal' | 'feasible' | 'none' | 'not-run';
  /** Moves of the optimal end state (all ticks together; this tick carries out the first of them). */
  end_state_moves: number | null;
  /** At most this many moves fewer might exist (0 when proven optimal; null when unknown). */
  gap_moves: number | null;
  solve_seconds: number | null;
  /** Size of the model; `restricted` = only some guests could move in it (a large cluster), so "optimal" means optimal among those. */
  model: { guests: number; movable: number; variables: number; restricted: boolean } | null;
  /** Why greedy decided when the exact planner was asked for, or what limited it. */
  note?: string;
}
