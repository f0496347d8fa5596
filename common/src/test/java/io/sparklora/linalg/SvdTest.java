package io.sparklora.linalg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.util.SplitMix64;
import org.junit.jupiter.api.Test;

class SvdTest {
    private static double[] random(int n, long seed) {
        SplitMix64 rng = new SplitMix64(seed);
        double[] m = new double[n];
        for (int i = 0; i < n; i++) {
            m[i] = rng.nextDouble() - 0.5;
        }
        return m;
    }

    @Test
    void reconstructsTallWideAndSquareMatricesWithOrthonormalFactors() {
        int[][] shapes = {{12, 5}, {5, 12}, {9, 9}, {1, 7}};
        for (int[] sh : shapes) {
            double[] m = random(sh[0] * sh[1], sh[0] * 31L + sh[1]);
            Svd svd = Svd.of(m, sh[0], sh[1]);
            assertClose(m, svd.reconstruct(), 1e-12, "reconstruction of " + sh[0] + "x" + sh[1]);
            assertOrthonormal(svd.u(), sh[0], svd.k());
            assertOrthonormal(svd.v(), sh[1], svd.k());
            for (int i = 1; i < svd.k(); i++) {
                assertTrue(svd.s()[i - 1] >= svd.s()[i], "descending");
            }
        }
    }

    @Test
    void knownSingularValuesOfADiagonalTimesRotations() {
        // M = diag(3, 2) placed in a 3x2 matrix: singular values 3 and 2, error of rank 1 is 2.
        double[] m = {0, 2, 3, 0, 0, 0};
        Svd svd = Svd.of(m, 3, 2);
        assertEquals(3, svd.s()[0], 1e-14);
        assertEquals(2, svd.s()[1], 1e-14);
        assertEquals(2, svd.tailNorm(1), 1e-14);
        assertEquals(Math.sqrt(13), svd.norm(), 1e-14);
    }

    @Test
    void productSvdEqualsDenseSvdIncludingRankDeficientFactors() {
        int rows = 10, inner = 4, cols = 7;
        double[] b = random(rows * inner, 1);
        double[] a = random(inner * cols, 2);
        for (int i = 0; i < rows; i++) {
            b[i * inner + 3] = 2 * b[i * inner + 1]; // B's rank is 3
        }
        double[] m = new double[rows * cols];
        for (int i = 0; i < rows; i++) {
            for (int k = 0; k < inner; k++) {
                for (int j = 0; j < cols; j++) {
                    m[i * cols + j] += b[i * inner + k] * a[k * cols + j];
                }
            }
        }
        Svd p = Svd.ofProduct(b, a, rows, inner, cols);
        Svd d = Svd.of(m, rows, cols);
        assertClose(m, p.reconstruct(), 1e-12, "product reconstruction");
        for (int i = 0; i < p.k(); i++) {
            assertEquals(d.s()[i], p.s()[i], 1e-12, "singular value " + i);
        }
        assertEquals(0, p.s()[3], 1e-12);
        assertOrthonormal(p.truncate(3).u(), rows, 3);
        // Eckart–Young: truncation error equals the tail norm
        Svd t = p.truncate(2);
        double err = 0;
        double[] r = t.reconstruct();
        for (int i = 0; i < m.length; i++) {
            err += (m[i] - r[i]) * (m[i] - r[i]);
        }
        assertEquals(p.tailNorm(2), Math.sqrt(err), 1e-12);
    }

    private static void assertOrthonormal(double[] x, int n, int k) {
        for (int p = 0; p < k; p++) {
            for (int q = 0; q < k; q++) {
                double d = 0;
                for (int i = 0; i < n; i++) {
                    d += x[i * k + p] * x[i * k + q];
                }
                assertEquals(p == q ? 1 : 0, d, 1e-12, "column " + p + "·" + q);
            }
        }
    }

    private static void assertClose(double[] e, double[] a, double tol, String what) {
        for (int i = 0; i < e.length; i++) {
            assertEquals(e[i], a[i], tol, what + " at " + i);
        }
    }
}
