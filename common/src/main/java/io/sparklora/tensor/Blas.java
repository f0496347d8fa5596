package io.sparklora.tensor;

import static org.bytedeco.openblas.global.openblas.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas.CblasTrans;
import static org.bytedeco.openblas.global.openblas.cblas_sgemm;

import java.nio.FloatBuffer;

/**
 * Row-major single-precision GEMM, {@code C = alpha·op(A)·op(B) + beta·C}, straight to OpenBLAS's {@code cblas_sgemm}
 * on direct buffers (no copies). Offsets are in floats; leading dimensions are row strides in floats, so a head's
 * columns inside a (rows, heads·headDim) activation are addressed without copying.
 *
 * <p>Three named variants instead of transpose flags: {@code NN} (A·B), {@code NT} (A·Bᵀ), {@code TN} (Aᵀ·B).
 * HF {@code nn.Linear} stores W as (out, in), so y = x·Wᵀ is {@link #gemmNT}; GPT-2's Conv1D stores (in, out), so
 * y = x·W is {@link #gemmNN}; weight gradients dW = dyᵀ·x are {@link #gemmTN}.
 */
public final class Blas {
    private Blas() {
    }

    /**
     * Sets the number of threads OpenBLAS uses for every later call in this JVM (the preset's
     * {@code blas_set_num_threads}, which calls {@code openblas_set_num_threads} of the loaded library).
     */
    public static void setThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("Cannot set BLAS threads: expected at least 1, got " + threads);
        }
        org.bytedeco.javacpp.Loader.load(org.bytedeco.openblas.global.openblas.class);
        org.bytedeco.openblas.presets.openblas_nolapack.blas_set_num_threads(threads);
    }

    /** The number of threads OpenBLAS now uses. */
    public static int threads() {
        org.bytedeco.javacpp.Loader.load(org.bytedeco.openblas.global.openblas.class);
        return org.bytedeco.openblas.presets.openblas_nolapack.blas_get_num_threads();
    }

    /** C(m×n) = alpha · A(m×k) · B(k×n) + beta · C. */
    public static void gemmNN(int m, int n, int k, float alpha, FloatBuffer a, int aOff, int lda,
                              FloatBuffer b, int bOff, int ldb, float beta, FloatBuffer c, int cOff, int ldc) {
        gemm(CblasNoTrans, CblasNoTrans, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    /** C(m×n) = alpha · A(m×k) · B(n×k)ᵀ + beta · C. */
    public static void gemmNT(int m, int n, int k, float alpha, FloatBuffer a, int aOff, int lda,
                              FloatBuffer b, int bOff, int ldb, float beta, FloatBuffer c, int cOff, int ldc) {
        gemm(CblasNoTrans, CblasTrans, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    /** C(m×n) = alpha · A(k×m)ᵀ · B(k×n) + beta · C. */
    public static void gemmTN(int m, int n, int k, float alpha, FloatBuffer a, int aOff, int lda,
                              FloatBuffer b, int bOff, int ldb, float beta, FloatBuffer c, int cOff, int ldc) {
        gemm(CblasTrans, CblasNoTrans, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    private static void gemm(int transA, int transB, int m, int n, int k, float alpha, FloatBuffer a, int aOff, int lda,
                             FloatBuffer b, int bOff, int ldb, float beta, FloatBuffer c, int cOff, int ldc) {
        if (m == 0 || n == 0) {
            return;
        }
        // JavaCPP passes a direct buffer's address plus its position; slices keep the shared buffers' position at 0.
        cblas_sgemm(CblasRowMajor, transA, transB, m, n, k, alpha, view(a, aOff), lda, view(b, bOff), ldb, beta,
                view(c, cOff), ldc);
    }

    private static FloatBuffer view(FloatBuffer buf, int offset) {
        return offset == 0 ? buf : buf.slice(offset, buf.capacity() - offset);
    }
}
