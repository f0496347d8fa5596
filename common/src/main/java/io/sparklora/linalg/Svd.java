package io.sparklora.linalg;

import java.util.Arrays;

/**
 * The thin singular value decomposition M = U·diag(s)·Vᵀ of a real (rows, cols) matrix, in double precision, by
 * one-sided Jacobi rotations (Hestenes 1958; Demmel &amp; Veselić 1992, "Jacobi's method is more accurate than QR"):
 * pairs of columns are rotated until all are orthogonal; their norms are then the singular values. It needs no
 * library, is accurate for small singular values, and costs O(sweeps · n² · m) — right for LoRA-sized factors and for
 * the weight matrices of small models. Truncating to the first r triplets gives the best rank-r approximation in the
 * Frobenius norm (Eckart–Young), with error √(Σ_{i≥r} sᵢ²).
 *
 * <p>All matrices are row-major {@code double[]}; k = min(rows, cols) triplets, s descending. A triplet with s = 0 has
 * a zero column in U (its direction is undefined and never contributes).
 *
 * @param rows m
 * @param cols n
 * @param u    (rows, k) left singular vectors as columns
 * @param s    (k) singular values, descending
 * @param v    (cols, k) right singular vectors as columns
 */
public record Svd(int rows, int cols, double[] u, double[] s, double[] v) {
    private static final int MAX_SWEEPS = 80;
    private static final double EPS = 1e-15;

    public Svd {
        int k = s.length;
        if (u.length != rows * k || v.length != cols * k) {
            throw new IllegalArgumentException("Invalid SVD: u has " + u.length + " values, v " + v.length
                    + ", expected " + rows + "·" + k + " and " + cols + "·" + k);
        }
    }

    /** The number of triplets. */
    public int k() {
        return s.length;
    }

    /** The SVD of the dense (rows, cols) row-major matrix {@code m}. */
    public static Svd of(double[] m, int rows, int cols) {
        if (m.length != rows * cols) {
            throw new IllegalArgumentException("Cannot decompose matrix: " + m.length + " values for shape (" + rows
                    + ", " + cols + ")");
        }
        if (rows >= cols) {
            return jacobi(m, rows, cols);
        }
        Svd t = jacobi(transpose(m, rows, cols), cols, rows); // Mᵀ = U' S V'ᵀ, so M = V' S U'ᵀ
        return new Svd(rows, cols, t.v, t.s, t.u);
    }

    /**
     * The SVD of the product M = B·A, B (rows, inner), A (inner, cols), without forming M: B = U_b S_b V_bᵀ, then
     * C = S_b V_bᵀ A (k, cols) = U_c S_c V_cᵀ, so M = (U_b U_c) S_c V_cᵀ. Both decompositions are of matrices with at
     * most {@code inner} columns or rows, so the cost is O(inner² · (rows + cols)) — the way to decompose a LoRA delta.
     */
    public static Svd ofProduct(double[] b, double[] a, int rows, int inner, int cols) {
        if (b.length != rows * inner || a.length != inner * cols) {
            throw new IllegalArgumentException("Cannot decompose product: B has " + b.length + " values, A has "
                    + a.length + ", expected (" + rows + ", " + inner + ") and (" + inner + ", " + cols + ")");
        }
        Svd sb = of(b, rows, inner);
        int kb = sb.k();
        double[] c = new double[kb * cols]; // (kb, cols) = S_b V_bᵀ A
        for (int i = 0; i < kb; i++) {
            for (int j = 0; j < inner; j++) {
                double f = sb.s[i] * sb.v[j * kb + i];
                if (f != 0) {
                    for (int col = 0; col < cols; col++) {
                        c[i * cols + col] += f * a[j * cols + col];
                    }
                }
            }
        }
        Svd sc = of(c, kb, cols);
        int k = sc.k();
        double[] u = multiply(sb.u, sc.u, rows, kb, k); // (rows, k)
        return new Svd(rows, cols, u, sc.s, sc.v);
    }

    /** The first r triplets (r ≤ k). */
    public Svd truncate(int r) {
        int k = k();
        if (r < 1 || r > k) {
            throw new IllegalArgumentException("Cannot truncate SVD of a (" + rows + ", " + cols + ") matrix to rank "
                    + r + ": must be between 1 and " + k);
        }
        return new Svd(rows, cols, columns(u, rows, k, r), Arrays.copyOf(s, r), columns(v, cols, k, r));
    }

    /** √(Σ_{i≥r} sᵢ²): the Frobenius error of keeping the first r triplets. */
    public double tailNorm(int r) {
        double e = 0;
        for (int i = r; i < s.length; i++) {
            e += s[i] * s[i];
        }
        return Math.sqrt(e);
    }

    /** √(Σ sᵢ²) = ‖M‖_F. */
    public double norm() {
        return tailNorm(0);
    }

    /** U·diag(s)·Vᵀ as a dense (rows, cols) row-major matrix. */
    public double[] reconstruct() {
        int k = k();
        double[] m = new double[rows * cols];
        for (int i = 0; i < rows; i++) {
            for (int t = 0; t < k; t++) {
                double f = u[i * k + t] * s[t];
                if (f != 0) {
                    for (int j = 0; j < cols; j++) {
                        m[i * cols + j] += f * v[j * k + t];
                    }
                }
            }
        }
        return m;
    }

    /** One-sided Jacobi on the columns of a tall (rows ≥ cols) matrix. */
    private static Svd jacobi(double[] m, int rows, int cols) {
        double[][] g = new double[cols][rows]; // columns of M, rotated in place
        double[][] w = new double[cols][cols]; // columns of V
        for (int j = 0; j < cols; j++) {
            for (int i = 0; i < rows; i++) {
                g[j][i] = m[i * cols + j];
            }
            w[j][j] = 1;
        }
        for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
            boolean rotated = false;
            for (int p = 0; p < cols - 1; p++) {
                for (int q = p + 1; q < cols; q++) {
                    double alpha = dot(g[p], g[p]);
                    double beta = dot(g[q], g[q]);
                    double gamma = dot(g[p], g[q]);
                    if (gamma == 0 || Math.abs(gamma) <= EPS * Math.sqrt(alpha * beta)) {
                        continue;
                    }
                    rotated = true;
                    double zeta = (beta - alpha) / (2 * gamma);
                    double t = Math.signum(zeta == 0 ? 1 : zeta) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
                    double c = 1 / Math.sqrt(1 + t * t);
                    rotate(g[p], g[q], c, c * t);
                    rotate(w[p], w[q], c, c * t);
                }
            }
            if (!rotated) {
                break;
            }
        }
        Integer[] order = new Integer[cols];
        double[] norms = new double[cols];
        for (int j = 0; j < cols; j++) {
            order[j] = j;
            norms[j] = Math.sqrt(dot(g[j], g[j]));
        }
        Arrays.sort(order, (x, y) -> Double.compare(norms[y], norms[x]));
        double[] u = new double[rows * cols];
        double[] s = new double[cols];
        double[] v = new double[cols * cols];
        for (int t = 0; t < cols; t++) {
            int j = order[t];
            s[t] = norms[j];
            if (norms[j] > 0) {
                for (int i = 0; i < rows; i++) {
                    u[i * cols + t] = g[j][i] / norms[j];
                }
            }
            for (int i = 0; i < cols; i++) {
                v[i * cols + t] = w[j][i];
            }
        }
        return new Svd(rows, cols, u, s, v);
    }

    private static double dot(double[] x, double[] y) {
        double d = 0;
        for (int i = 0; i < x.length; i++) {
            d += x[i] * y[i];
        }
        return d;
    }

    /** (x, y) ← (c·x − s·y, s·x + c·y). */
    private static void rotate(double[] x, double[] y, double c, double s) {
        for (int i = 0; i < x.length; i++) {
            double xi = x[i];
            double yi = y[i];
            x[i] = c * xi - s * yi;
            y[i] = s * xi + c * yi;
        }
    }

    private static double[] transpose(double[] m, int rows, int cols) {
        double[] t = new double[m.length];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                t[j * rows + i] = m[i * cols + j];
            }
        }
        return t;
    }

    /** (n, k) · (k, r) → (n, r), row-major. */
    private static double[] multiply(double[] x, double[] y, int n, int k, int r) {
        double[] out = new double[n * r];
        for (int i = 0; i < n; i++) {
            for (int t = 0; t < k; t++) {
                double f = x[i * k + t];
                if (f != 0) {
                    for (int j = 0; j < r; j++) {
                        out[i * r + j] += f * y[t * r + j];
                    }
                }
            }
        }
        return out;
    }

    /** The first r of k columns of a (n, k) row-major matrix. */
    private static double[] columns(double[] x, int n, int k, int r) {
        double[] out = new double[n * r];
        for (int i = 0; i < n; i++) {
            System.arraycopy(x, i * k, out, i * r, r);
        }
        return out;
    }
}
