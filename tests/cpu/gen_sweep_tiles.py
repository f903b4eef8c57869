# Writes out the unrolled tiles of compute/cpu/GptqSweepKernels.java.
import sys
def tile(R, C):
    L = []
    L.append(f"    /** {R} rows × {C} vectors of columns: {R*C} accumulators + {C} U vectors + broadcast + product. */")
    L.append(f"    private static void tile{R}x{C}(float[] w, int w0, int ldw, float[] e, int e0, int lde, float[] u, int u0, int ldu, int k) {{")
    L.append("        final int l = F.length();")
    acc = [f"s{r}{q}" for r in range(R) for q in range(C)]
    L.append("        FloatVector " + ", ".join(f"{x} = FloatVector.zero(F)" if i == 0 else f"{x} = s00" for i, x in enumerate(acc)) + ";")
    L.append("        for (int p = 0; p < k; p++) {")
    L.append("            int up = u0 + p * ldu;")
    L.append("            " + " ".join(f"FloatVector b{q} = FloatVector.fromArray(F, u, up + {q} * l);" for q in range(C)))
    for r in range(R):
        L.append(f"            FloatVector x{r} = FloatVector.broadcast(F, e[e0 + {r} * lde + p]);")
        L.append("            " + " ".join(f"s{r}{q} = s{r}{q}.add(x{r}.mul(b{q}));" for q in range(C)))
    L.append("        }")
    for r in range(R):
        for q in range(C):
            L.append(f"        {{ int at = w0 + {r} * ldw + {q} * l; FloatVector.fromArray(F, w, at).sub(s{r}{q}).intoArray(w, at); }}")
    L.append("    }")
    return "\n".join(L)
for spec in sys.argv[1:]:
    R, C = map(int, spec.split("x"))
    print(tile(R, C)); print()
