# Writes out the unrolled register tiles of compute/cpu/F32Tiles.java and Bf16Tiles.java (pasted between their
# "4 rows × 4 outputs" and "One (row, output) dot product" comments), and of PanelTiles.java (kind "panel": rows ×
# output vectors). Usage: python3 tests/cpu/gen_tiles.py f32 4x4 2x4 1x4 ; python3 tests/cpu/gen_tiles.py panel 8x2 6x2 ;
# python3 tests/cpu/gen_tiles.py panel-bf16 8x2 6x2 ; python3 tests/cpu/gen_tiles.py broadcast 4x4 6x2 4x2 (BroadcastTiles)
import sys
def f32_tile(R, C, name):
    L = []
    L.append(f"    /** {R} rows × {C} outputs: {R*C} accumulators + {R} x vectors + 1 weight vector live. */")
    L.append(f"    static void {name}(float[] x, int x0, int in, float[] w, int w0, float[] y, int y0, int ldy, float[] bias, int o, boolean accumulate) {{")
    L.append("        final int step = F.length(), bound = F.loopBound(in);")
    for r in range(R): L.append(f"        final int xr{r} = x0 + {r} * in;")
    for c in range(C): L.append(f"        final int wc{c} = w0 + {c} * in;")
    accs = [f"a{r}{c}" for r in range(R) for c in range(C)]
    L.append("        FloatVector " + ", ".join(f"{a} = FloatVector.zero(F)" if i==0 else f"{a} = a00" for i,a in enumerate(accs)) + ";")
    L.append("        int k = 0;")
    L.append("        for (; k < bound; k += step) {")
    L.append("            " + " ".join(f"FloatVector v{r} = FloatVector.fromArray(F, x, xr{r} + k);" for r in range(R)))
    for c in range(C):
        L.append(f"            FloatVector b{c} = FloatVector.fromArray(F, w, wc{c} + k);")
        L.append("            " + " ".join(f"a{r}{c} = v{r}.fma(b{c}, a{r}{c});" for r in range(R)))
    L.append("        }")
    emit_stores(L, R, C, "x")
    L.append("    }")
    return "\n".join(L)

def emit_stores(L, R, C, xname):
    assert C == 4
    L.append("        // four accumulators of a row folded into one vector of four sums, written out here rather than in a helper:")
    L.append("        // a call after the loop is not hot enough for C2 to inline and would box every vector (see Reductions)")
    for r in range(R):
        a = [f"a{r}{c}" for c in range(4)]
        L.append(f"        FloatVector h{r}a = {a[0]}.add({a[0]}.rearrange(Reductions.SWAP_HALF)).blend({a[1]}.add({a[1]}.rearrange(Reductions.SWAP_HALF)), Reductions.HALF_BIT);")
        L.append(f"        FloatVector h{r}b = {a[2]}.add({a[2]}.rearrange(Reductions.SWAP_HALF)).blend({a[3]}.add({a[3]}.rearrange(Reductions.SWAP_HALF)), Reductions.HALF_BIT);")
        L.append(f"        FloatVector s{r} = h{r}a.add(h{r}a.rearrange(Reductions.SWAP_QUARTER)).blend(h{r}b.add(h{r}b.rearrange(Reductions.SWAP_QUARTER)), Reductions.QUARTER_BIT);")
        L.append(f"        if (Reductions.L >= 8) s{r} = s{r}.add(s{r}.rearrange(Reductions.SWAP_EIGHTH));")
        L.append(f"        if (Reductions.L >= 16) s{r} = s{r}.add(s{r}.rearrange(Reductions.SWAP_SIXTEENTH));")
        for c, lane in enumerate(["0", "Reductions.L / 2", "Reductions.L / 4", "3 * Reductions.L / 4"]):
            L.append(f"        put(y, y0 + {r} * ldy + {c}, s{r}.lane({lane}) + tail({xname}, xr{r}, w, wc{c}, k, in), bias, o + {c}, accumulate);")

def bf16_tile(R, C, name):
    L = []
    L.append(f"    /** {R} rows × {C} outputs: {R*C} accumulators + {2*R} x vectors (even/odd lanes) + 3 weight vectors live. */")
    L.append(f"    static void {name}(float[] xp, int x0, int in, short[] w, int w0, float[] y, int y0, int ldy, float[] bias, int o, boolean accumulate) {{")
    L.append("        final int step = 2 * F.length(), bound = loopBound2(in);")
    for r in range(R): L.append(f"        final int xr{r} = x0 + {r} * in;")
    for c in range(C): L.append(f"        final int wc{c} = w0 + {c} * in;")
    accs = [f"a{r}{c}" for r in range(R) for c in range(C)]
    L.append("        FloatVector " + ", ".join(f"{a} = FloatVector.zero(F)" if i==0 else f"{a} = a00" for i,a in enumerate(accs)) + ";")
    L.append("        int k = 0;")
    L.append("        for (; k < bound; k += step) {")
    for r in range(R):
        L.append(f"            FloatVector e{r} = FloatVector.fromArray(F, xp, xr{r} + k), d{r} = FloatVector.fromArray(F, xp, xr{r} + k + F.length());")
    for c in range(C):
        L.append(f"            IntVector p{c} = ShortVector.fromArray(S, w, wc{c} + k).reinterpretAsInts();")
        L.append(f"            FloatVector be{c} = p{c}.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), bo{c} = p{c}.and(HIGH_HALF).reinterpretAsFloats();")
        L.append("            " + " ".join(f"a{r}{c} = e{r}.fma(be{c}, a{r}{c}); a{r}{c} = d{r}.fma(bo{c}, a{r}{c});" for r in range(R)))
    L.append("        }")
    emit_stores(L, R, C, "xp")
    L.append("    }")
    return "\n".join(L)

def panel_tile(R, C, name, bf16=False):
    # bf16 panels hold the two output vectors of a k interleaved in pairs: short 2j = output j, short 2j+1 = output
    # j + L, so one short-vector load read as ints gives both: (int << 16) is outputs 0..L-1, (int & 0xFFFF0000) L..2L-1
    assert C == 2 or not bf16
    L = []
    if bf16:
        L.append(f"    /** {R} rows × 2 output vectors from a bf16 panel: {R*2} accumulators + 2 widened weight vectors + 1 broadcast live. */")
        L.append(f"    static void {name}Bf16(float[] xp, int x0, short[] wp, int wOff, int kc, float[] c, int c0, int ldc, boolean load) {{")
    else:
        L.append(f"    /** {R} rows × {C} output vectors: {R*C} accumulators + {C} weight vectors + 1 broadcast live. */")
        L.append(f"    static void {name}(float[] xp, int x0, float[] wp, int wOff, int kc, float[] c, int c0, int ldc, boolean load) {{")
    for r in range(R):
        L.append("        FloatVector " + ", ".join(f"a{r}{v} = load ? FloatVector.fromArray(F, c, c0 + {r} * ldc + {v} * L) : FloatVector.zero(F)" for v in range(C)) + ";")
    L.append("        for (int k = 0; k < kc; k++) {")
    L.append(f"            final int wk = wOff + k * {C} * L, xk = x0 + k * {R};")
    if bf16:
        L.append("            IntVector p = ShortVector.fromArray(S, wp, wk).reinterpretAsInts();")
        if R == 6:
            # the 16-register tile (6 × 2, AVX2): 15 live vectors, and the mask constant one too many; two shifts give
            # the same bits at the f32 tile's speed (71-74 against 46-54 GFLOP/s with the mask, one AVX2 thread)
            L.append("            FloatVector w0 = p.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), w1 = p.lanewise(VectorOperators.LSHR, 16).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();")
        else:
            L.append("            FloatVector w0 = p.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), w1 = p.and(HIGH_HALF).reinterpretAsFloats();")
    else:
        L.append("            " + " ".join(f"FloatVector w{v} = FloatVector.fromArray(F, wp, wk + {v} * L);" for v in range(C)))
    for r in range(R):
        L.append(f"            FloatVector b{r} = FloatVector.broadcast(F, xp[xk + {r}]); " + " ".join(f"a{r}{v} = w{v}.fma(b{r}, a{r}{v});" for v in range(C)))
    L.append("        }")
    for r in range(R):
        L.append("        " + " ".join(f"a{r}{v}.intoArray(c, c0 + {r} * ldc + {v} * L);" for v in range(C)))
    L.append("    }")
    return "\n".join(L)

def broadcast_tile(R, C, name):
    # BroadcastTiles: y = x·B, B row-major [in, out]; x's tile rows read in place (stride ldx), one broadcast per row and k
    L = []
    L.append(f"    /** {R} rows × {C} output vectors: {R*C} accumulators + {C} B vectors + 1 broadcast live. */")
    L.append(f"    private static void {name}(float[] x, int x0, int ldx, int in, float[] b, int b0, int ldb, float[] y, int y0, int ldy) {{")
    accs = [f"a{r}{c}" for r in range(R) for c in range(C)]
    L.append("        FloatVector " + ", ".join(f"{a} = FloatVector.zero(F)" if i == 0 else f"{a} = a00" for i, a in enumerate(accs)) + ";")
    L.append("        for (int k = 0; k < in; k++) {")
    L.append("            int bk = b0 + k * ldb;")
    L.append("            " + " ".join(f"FloatVector c{c} = FloatVector.fromArray(F, b, bk + {c} * L);" for c in range(C)))
    for r in range(R):
        L.append(f"            FloatVector v{r} = FloatVector.broadcast(F, x[x0 + {r} * ldx + k]); " + " ".join(f"a{r}{c} = c{c}.fma(v{r}, a{r}{c});" for c in range(C)))
    L.append("        }")
    for r in range(R):
        L.append("        " + " ".join(f"a{r}{c}.intoArray(y, y0 + {r} * ldy + {c} * L);" for c in range(C)))
    L.append("    }")
    return "\n".join(L)

kind = sys.argv[1]
for spec in sys.argv[2:]:
    R, C = map(int, spec.split("x"))
    print({"f32": f32_tile, "bf16": bf16_tile, "panel": panel_tile, "broadcast": broadcast_tile,
     "panel-bf16": lambda R, C, name: panel_tile(R, C, name, bf16=True)}[kind](R, C, f"tile{R}x{C}"))
    print()
