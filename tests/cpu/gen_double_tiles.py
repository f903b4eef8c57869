# Writes out the unrolled double-precision update tiles of compute/cpu/DoubleTiles.java.
import sys
def tile(R, C):
    L = []
    L.append(f"    /** C[i0+r, j0+c·L …] += sign · Σ_p A(r, p)·B[p, j0+c·L …] for r < {R}, c < {C} vectors: {R*C} accumulators + {C} B vectors + 1 broadcast. */")
    L.append(f"    static void tile{R}x{C}(double[] a, int aOff, int aRs, int aCs, double[] b, int bOff, int ldb, int pCount,")
    L.append(f"                         double[] c, int cOff, int ldc, double sign, int i0, int j0, int limit, boolean mask, double[] tmp) {{")
    L.append("        final int l = D.length();")
    acc = [f"s{r}{q}" for r in range(R) for q in range(C)]
    L.append("        DoubleVector " + ", ".join(f"{x} = DoubleVector.zero(D)" if i == 0 else f"{x} = s00" for i, x in enumerate(acc)) + ";")
    L.append("        for (int p = 0; p < pCount; p++) {")
    L.append("            int bp = bOff + p * ldb, ap = aOff + p * aCs;")
    L.append("            " + " ".join(f"DoubleVector b{q} = DoubleVector.fromArray(D, b, bp + {q} * l);" for q in range(C)))
    for r in range(R):
        L.append(f"            DoubleVector x{r} = DoubleVector.broadcast(D, a[ap + {r} * aRs]);")
        L.append("            " + " ".join(f"s{r}{q} = x{r}.fma(b{q}, s{r}{q});" for q in range(C)))
    L.append("        }")
    L.append("        if (!mask) {")
    L.append("            DoubleVector sg = DoubleVector.broadcast(D, sign);")
    for r in range(R):
        for q in range(C):
            L.append(f"            {{ int at = cOff + (i0 + {r}) * ldc + j0 + {q} * l; s{r}{q}.fma(sg, DoubleVector.fromArray(D, c, at)).intoArray(c, at); }}")
    L.append("            return;")
    L.append("        }")
    L.append("        // diagonal or edge tile: only j ≥ i inside [0, limit) is written (the caller's lower triangle stays untouched)")
    for r in range(R):
        for q in range(C):
            L.append(f"        s{r}{q}.intoArray(tmp, 0); maskedAdd(c, cOff, ldc, i0 + {r}, j0 + {q} * l, limit, sign, tmp);")
    L.append("    }")
    return "\n".join(L)
for spec in sys.argv[1:]:
    R, C = map(int, spec.split("x"))
    print(tile(R, C)); print()
