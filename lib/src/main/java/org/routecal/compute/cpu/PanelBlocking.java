package org.routecal.compute.cpu;

/**
 * How a {@link PanelMatmul} product is cut into cache blocks and tasks, the defaults per kind of product, and the
 * cutting itself. {@code kc}: inputs per k-slice (a tile's x group is kc × ROWS floats, 16 KB at 512 × 8).
 * {@code rowBlockBytes}: at most this much packed x per task and k-slice (it stays in L2 while the task's panels pass
 * over it). {@code panelBlockBytes}: a task walks its panels in chunks of this much W per k-slice, the chunk staying in
 * L2 while every row group of the task passes over it. {@code tasksPerThread}: tasks wanted per pool thread.
 * {@code split}: how that many tasks are reached (see {@link Split}). The result of a product never depends on it.
 */
public record PanelBlocking(int kc, int rowBlockBytes, int panelBlockBytes, int tasksPerThread, Split split) {
    public PanelBlocking {
        if (kc < 1 || rowBlockBytes < 1 || panelBlockBytes < 1 || tasksPerThread < 1 || split == null) throw new IllegalArgumentException("blocking " + kc + "/" + rowBlockBytes + "/" + panelBlockBytes + "/" + tasksPerThread + "/" + split);
    }

    /** The two-way form of the first blockings: rows first or panels first. */
    public PanelBlocking(int kc, int rowBlockBytes, int panelBlockBytes, int tasksPerThread, boolean rowsFirst) {
        this(kc, rowBlockBytes, panelBlockBytes, tasksPerThread, rowsFirst ? Split.ROWS : Split.PANELS);
    }

    boolean rowsFirst() { return split == Split.ROWS; }

    /** Row groups per task at most, for a k-slice of kb inputs. */
    int maxGroups(int kb) { return Math.max(1, rowBlockBytes / (4 * kb * PanelTiles.ROWS)); }

    /** Panels per L2 chunk, for a k-slice of kb inputs. */
    int chunkPanels(int kb) { return Math.max(1, panelBlockBytes / (4 * kb * PanelMatmul.NR)); }

    /**
     * How a product's tasks are cut. {@code PANELS} ("false" in {@link #parse}): row blocks as large as rowBlockBytes
     * allows, then panels split into L2 chunks and finer until there are enough tasks. {@code ROWS} ("true"): rows cut
     * finer first, down to one group per task, every task over all panels. {@code BALANCED} ("balanced"): the rows ×
     * panels grid with enough, evenly sized tasks that reads the least data from outside the cores' L2 (x once per
     * panel block, W once per row block); for a grouped product, the largest row blocks. On 16 cores it read 5× less
     * for a Qwen3-30B-A3B expert product yet ran it slower than PANELS (37 % against 45 % of the FMA peak), while the
     * grouped products gained 6–7 points: it is the grouped default ({@link #GROUPED}), not the plain one.
     */
    public enum Split { PANELS, ROWS, BALANCED }

    /**
     * The blocking for weights that stay in the last-level cache (up to {@link #RESIDENT_WEIGHT_BYTES}): k-slices of
     * 512, row blocks of 32 rows, L2 chunks of 2 panels — many small tasks over one shared W. On the GPU machine's 16
     * cores it ran the forward's expert and attention products 1.1–1.8× the first default (256,256,256,4,false), and
     * on 2 cores at par (PanelBlockingSweep; bench/CPU-RESULTS.md).
     */
    public static final PanelBlocking RESIDENT = new PanelBlocking(512, 64 << 10, 128 << 10, 4, false);
    /**
     * The blocking for larger weights (an lm_head of 32k × 1k is 131 MB in float32): row blocks of up to 1 MB of x, so
     * W streams from memory a few times rather than once per small row block.
     */
    public static final PanelBlocking STREAMED = new PanelBlocking(512, 1 << 20, 256 << 10, 4, false);
    /**
     * The blocking of grouped expert products ({@link PanelMatmul#grouped}): row blocks of up to 512 KB of x per k-slice (256
     * rows at kc 512), so most experts' rows form one task that streams the expert's W once. On the GPU machine's 16
     * cores it ran Qwen3-30B-A3B's grouped gate/up at 63 % of the FMA peak and down at 57 %, where RESIDENT gave 57 %
     * and 50 % (same run, interleaved); on 2 cores at par (85 %; bench/CPU-RESULTS.md). Four tasks per thread: with
     * fewer row blocks than that (32 experts on 16 cores) the panels are split too, which ran the side-by-side
     * model's grouped gate/up 19–25 % faster than whole-expert tasks in three 16-core sweeps (STREAMED, which does so,
     * against this blocking with two); products with more row blocks are cut the same either way.
     */
    public static final PanelBlocking GROUPED = new PanelBlocking(512, 512 << 10, 128 << 10, 4, Split.BALANCED);
    /**
     * Packed weights up to this size count as cache-resident. 64 MB: Qwen3-30B-A3B's q/k/v (42 MB in float32, one
     * product) ran 11 % faster with RESIDENT than STREAMED on the GPU machine's 16 cores (1,419 against 1,276 GFLOP/s;
     * 300 MB of L3) and 1 % on 2 (32 MB of L3), while a 131 MB lm_head still wants STREAMED there (1,640 against 1,288).
     */
    public static final long RESIDENT_WEIGHT_BYTES = 64L << 20;
    /** {@code -Droutecal.panelBlocking=kc,rowKB,chunkKB,tasksPerThread,split}: one blocking for every product. */
    private static final PanelBlocking OVERRIDE = System.getProperty("routecal.panelBlocking") == null ? null
            : parse(System.getProperty("routecal.panelBlocking"));

    /** The blocking of a grouped expert product unless given one: {@link #GROUPED}, or the override. */
    public static PanelBlocking forGrouped() { return OVERRIDE != null ? OVERRIDE : GROUPED; }

    /** The blocking a product with {@code weightBytes} of packed weights gets unless given one. */
    public static PanelBlocking blockingFor(long weightBytes) {
        if (OVERRIDE != null) return OVERRIDE;
        return weightBytes <= RESIDENT_WEIGHT_BYTES ? RESIDENT : STREAMED;
    }

    /** "kc,rowKB,chunkKB,tasksPerThread,split" as a blocking (split: false, true or balanced); a clear error for anything else. */
    public static PanelBlocking parse(String spec) {
        String[] f = spec.split(",");
        try {
            if (f.length != 5) throw new NumberFormatException("5 fields wanted");
            Split split = switch (f[4].trim()) {
                case "false" -> Split.PANELS;
                case "true" -> Split.ROWS;
                case "balanced" -> Split.BALANCED;
                default -> throw new NumberFormatException("the split must be false (panels first), true (rows first) or balanced");
            };
            return new PanelBlocking(Integer.parseInt(f[0].trim()), Integer.parseInt(f[1].trim()) << 10, Integer.parseInt(f[2].trim()) << 10,
                    Integer.parseInt(f[3].trim()), split);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("panel blocking '" + spec + "': want kc,rowKB,chunkKB,tasksPerThread,split (e.g. 512,512,128,2,balanced)", e);
        }
    }

    /** The blocking as {@link #parse} reads it. */
    public static String format(PanelBlocking b) {
        String split = switch (b.split()) {
            case PANELS -> "false";
            case ROWS -> "true";
            case BALANCED -> "balanced";
        };
        return b.kc() + "," + (b.rowBlockBytes() >> 10) + "," + (b.panelBlockBytes() >> 10) + "," + b.tasksPerThread() + "," + split;
    }

    /**
     * Row groups and panels per task: {groupsPerBlock, panelsPerBlock}. {@code units} row units (an expert each in a
     * grouped product, whose row blocks never straddle two) share {@code groups} row groups. One thread: the largest
     * row block the blocking allows, all panels (chunked inside the task). Several: at least threads × tasksPerThread
     * tasks, reached as the blocking's {@link Split} says; a balanced grouped product keeps the largest row blocks
     * (each streams its expert's W once). {@code weightBytes}: bytes per packed weight value (4, or 2 for bf16).
     */
    static int[] cut(int groups, int units, int panels, int kb, int threads, PanelBlocking b, int weightBytes) {
        int maxG = b.maxGroups(kb), wanted = threads * b.tasksPerThread();
        if (threads == 1) return new int[]{Math.min(groups, maxG), panels};
        if (b.split() == Split.BALANCED) {
            if (units > 1) return new int[]{Math.min(groups, maxG), panels};
            return balancedCut(groups, panels, maxG, threads, wanted, 4L * PanelTiles.ROWS, (long) PanelMatmul.NR * weightBytes);
        }
        int g = Math.min(groups, maxG);
        if (b.rowsFirst()) g = Math.max(1, Math.min(g, ceilDiv(groups, wanted)));
        int rowBlocks = units == 1 ? ceilDiv(groups, g) : groups / g + units; // an upper bound when units > 1
        int panelBlocks = b.rowsFirst() ? 1 : ceilDiv(panels, b.chunkPanels(kb));
        if ((long) rowBlocks * panelBlocks < wanted) panelBlocks = Math.min(panels, Math.max(panelBlocks, ceilDiv(wanted, rowBlocks)));
        return new int[]{g, Math.max(1, panels / panelBlocks)}; // at least panelBlocks blocks
    }

    /** Tasks are balanced when the busiest thread's share is at least this fraction of an even split's. */
    static final double BALANCE = 0.85;

    /**
     * The rows × panels grid for {@link Split#BALANCED}: of the cuts into panel blocks × row blocks (row blocks of at
     * most maxG groups, at least {@code wanted} tasks where the rows allow), those whose tasks share out evenly over
     * the threads (rounds of equal tasks, at least {@link #BALANCE} of the ideal), the one that reads the least: x
     * once per panel block, W once per row block (bytes per row group and per panel over all k). None even: the most
     * even one.
     */
    static int[] balancedCut(int groups, int panels, int maxG, int threads, int wanted, long xBytesPerGroup, long wBytesPerPanel) {
        int minRowBlocks = ceilDiv(groups, maxG);
        double ideal = (double) groups * panels / threads;
        int[] best = null;
        double bestCost = 0, bestEven = -1;
        for (int pb = 1; pb <= panels; pb++) {
            int ppb = ceilDiv(panels, pb);
            if (ceilDiv(panels, ppb) != pb) continue; // the same cut as a smaller pb
            int rb = Math.min(groups, Math.max(minRowBlocks, ceilDiv(wanted, pb)));
            int gpb = ceilDiv(groups, rb);
            rb = ceilDiv(groups, gpb);
            long tasks = (long) rb * pb;
            double even = ideal / ((double) ((tasks + threads - 1) / threads) * gpb * ppb);
            double cost = (double) pb * groups * xBytesPerGroup + (double) rb * panels * wBytesPerPanel;
            boolean better;
            if (best == null) better = true;
            else if ((even >= BALANCE) != (bestEven >= BALANCE)) better = even >= BALANCE;
            else if (even >= BALANCE) better = cost < bestCost;
            else better = even > bestEven || (even == bestEven && cost < bestCost);
            if (better) {
                best = new int[]{gpb, ppb};
                bestCost = cost;
                bestEven = even;
            }
        }
        return best;
    }


    private static int ceilDiv(int a, int b) { return (a + b - 1) / b; }
}
