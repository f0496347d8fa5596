package io.sparklora.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class BlasTest {
    /** Each variant against the triple loop it names, with offsets and strides that address a sub-block. */
    @Test
    void variantsMatchNaiveProducts() {
        int m = 3, n = 4, k = 5, pad = 2;
        Tensor a = Tensor.zeros(pad + m * (k + 1));
        Tensor b = Tensor.zeros(pad + n * (k + 1));
        for (int i = 0; i < a.size(); i++) {
            a.set(i, (i * 7 % 11) - 5);
        }
        for (int i = 0; i < b.size(); i++) {
            b.set(i, (i * 5 % 13) - 6);
        }
        // NT: A (m×k, lda=k+1, offset pad) · B (n×k, ldb=k+1, offset pad)ᵀ
        Tensor c = Tensor.zeros(m * n);
        Blas.gemmNT(m, n, k, 1f, a.data(), pad, k + 1, b.data(), pad, k + 1, 0f, c.data(), 0, n);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0;
                for (int p = 0; p < k; p++) {
                    s += a.get(pad + i * (k + 1) + p) * b.get(pad + j * (k + 1) + p);
                }
                assertEquals(s, c.get(i * n + j), 1e-4, "NT at " + i + "," + j);
            }
        }
        // NN: A (m×k) · B (k×n, ldb=n) accumulated onto C with beta = 1
        Tensor c2 = Tensor.zeros(m * n);
        c2.fill(1f);
        Blas.gemmNN(m, n, k, 2f, a.data(), 0, k, b.data(), 0, n, 1f, c2.data(), 0, n);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0;
                for (int p = 0; p < k; p++) {
                    s += a.get(i * k + p) * b.get(p * n + j);
                }
                assertEquals(1f + 2f * s, c2.get(i * n + j), 1e-4, "NN at " + i + "," + j);
            }
        }
        // TN: A (k×m)ᵀ · B (k×n)
        Tensor c3 = Tensor.zeros(m * n);
        Blas.gemmTN(m, n, k, 1f, a.data(), 0, m, b.data(), 0, n, 0f, c3.data(), 0, n);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0;
                for (int p = 0; p < k; p++) {
                    s += a.get(p * m + i) * b.get(p * n + j);
                }
                assertEquals(s, c3.get(i * n + j), 1e-4, "TN at " + i + "," + j);
            }
        }
    }
}
