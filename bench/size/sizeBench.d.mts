// Types of bench/size/sizeBench.mjs, for test/size/size.test.ts under strict TypeScript.

export interface SizeCase {
  id: string;
  label: string;
  /** The app module esbuild bundles. */
  source?: string;
  /** Or a built file (from the repository root) measured as shipped. */
  file?: string;
}

export interface Size {
  files: number;
  /** Minified bytes. */
  bytes: number;
  /** Gzip (level 9) bytes, each chunk on its own, summed. */
  gzip: number;
}

export interface MeasuredCase {
  id: string;
  label: string;
  /** A built file measured as shipped (`SizeCase.file`), not bundled by esbuild. */
  shipped?: boolean;
  /** The entry chunk and every chunk it imports statically. */
  initial: Size;
  /** Chunks reached only through import(). */
  lazy: Size;
  total: Size;
  /** Chunks esbuild wrote that no chunk of this entry imports (never downloaded). */
  unreferenced: Size & { names: string[] };
  /** Which outputs hold code from node_modules/simple-peer. */
  simplePeer: { initial: boolean; lazy: boolean; unreferenced: boolean };
  /** Whether createPeer (dist/core/peer/createPeer.js; src/… for shipped files) is bundled. */
  createPeer: boolean;
  /** Every module in the initial and lazy chunks (a shipped file: its source map's sources). */
  inputs: string[];
}

export interface Sizes {
  /** esbuild's version. */
  esbuild: string;
  cases: MeasuredCase[];
}

export type BudgetMetric = 'initialGzip' | 'totalGzip';

export type Budgets = Record<string, Partial<Record<BudgetMetric, number>> | string>;

export interface BudgetCheck {
  id: string;
  label: string;
  metric: BudgetMetric;
  measured: number;
  budget: number;
  /** Bytes above the budget (negative when under). */
  over: number;
  ok: boolean;
}

export interface Table {
  title: string;
  columns: string[];
  rows: Array<Array<string | number>>;
  notes?: string[];
}

export declare const EXTERNAL: string[];
export declare const CASES: SizeCase[];
export declare const DIST_ENTRIES: string[];
export declare const ANCHORS: Array<{ name: string; kb: number; compareWith: string }>;

export declare function measureSizes(): Promise<Sizes>;
export declare function readBudgets(): Promise<Budgets>;
export declare function checkBudgets(sizes: Sizes, budgets: Budgets): BudgetCheck[];
export declare function budgetFor(gzip: number): number;
export declare function budgetsFrom(sizes: Sizes): Budgets;
export declare function run(options?: { mode?: string; log?: (line: string) => void }): Promise<{
  name: 'size';
  tables: Table[];
  results: Sizes & { budgets: Budgets; checks: BudgetCheck[] };
}>;
