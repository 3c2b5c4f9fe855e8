/* Compiled core of the transient fits: bin-averaged models, whitened residuals and the
 * bounded Levenberg-Marquardt of sescreen/dcpol/marquardt.py, for several starts.
 *
 * The Python modules are the reference: this file is the same iteration step for step
 * (marquardt._iterate; lsq.least_squares_many's evaluation budget, best point and
 * forward-difference Jacobian with lsq._forward_steps; binning.Binned.average; the
 * models of sescreen/transients.py), without the interpreter between the steps. A fit of
 * a few parameters on ~150 bins costs tens of microseconds here against milliseconds in
 * Python, where every step is a handful of small numpy calls. The power-law shapes
 * ((t / tau)^beta, (t / t_ref)^-p) are taken through logarithms of the nodes, two
 * exponentials instead of a power. Results agree with the Python path to rounding
 * (tests/test_lmcore.py); SESCREEN_PURE_PYTHON=1 selects it.
 *
 * Also here: the passes over the raw samples of sescreen/dcpol/record.py (second
 * differences, segment sums, a sample of second differences) and the grid starts'
 * variable projection (sescreen/dcpol/grid.py), each behind a function of
 * sescreen/dcpol/core.py with the numpy code as its reference.
 *
 * Models (ids as in candidates._CORE_MODELS; METHODS.md section 1):
 *   0 exp1(i_ss, a1, tau1)            1 exp2(i_ss, a1, tau1, a2, tau2)
 *   2 exp3(i_ss, a1, tau1, a2, tau2, a3, tau3)
 *   3 stretched(i_ss, a, tau, beta)   4 stoich_limit(i_inf, tau_d)
 *   5 stoich_rc(i_inf, tau_d, a1, tau1)
 *   6 power(i_ss, a, p, t_ref)        7 exp1_power(i_ss, a1, tau1, a, p, t_ref)
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NODES 4
#define MAXP 16          /* parameters of a model program (all, varying or not) */
#define MAXV 8           /* varying parameters */
#define TAU0 1e-3        /* marquardt._TAU */
#define MAX_DAMPING 1e16 /* marquardt._MAX_DAMPING */

enum { OK_CONVERGED = 0, OK_UNCONVERGED = 1, ABORTED = 2, NOT_FINITE = 3 };

typedef struct {
    int model, nb, full, np, nv, nargs;
    const double *nodes, *weights, *y, *whiten;
    const int64_t *kind, *ref, *fac_start, *fac_len, *fac_idx, *args;
    const double *val, *plo, *phi, *lo, *hi;
    double *raw;     /* work: nb */
    double *lognodes; /* log(max(t, floor)) of every node, for the power-law shapes */
} Problem;

static double nmax(double a, double b) { return (a > b || isnan(a)) ? a : b; }
static double nmin(double a, double b) { return (a < b || isnan(a)) ? a : b; }

/* Parameter values at the varying x: fixed values, x, then the products in order
 * (lsq._point: clipped to their own bounds, lmfit's rule). */
static void point(const Problem *p, const double *x, double *out) {
    for (int j = 0; j < p->np; j++)
        out[j] = p->kind[j] == 0 ? x[p->ref[j]] : p->val[j];
    for (int j = 0; j < p->np; j++) {
        if (p->kind[j] != 2) continue;
        double v = 1.0;
        for (int k = 0; k < p->fac_len[j]; k++) v *= out[p->fac_idx[p->fac_start[j] + k]];
        out[j] = v > p->phi[j] ? p->phi[j] : v < p->plo[j] ? p->plo[j] : v;
    }
}

/* A model is a constant (or none) plus terms amplitude * shape(t; one or two parameters),
 * summed left to right as numpy evaluates the expressions of sescreen/transients.py. */
enum { EXP, STRETCH, THETA, POWER };
typedef struct { int amp, shape, par[2]; } Term;
typedef struct { int constant, n_terms; Term terms[3]; } Layout;
static const Layout LAYOUTS[8] = {
    {0, 1, {{1, EXP, {2, -1}}}},                                        /* exp1 */
    {0, 2, {{1, EXP, {2, -1}}, {3, EXP, {4, -1}}}},                      /* exp2 */
    {0, 3, {{1, EXP, {2, -1}}, {3, EXP, {4, -1}}, {5, EXP, {6, -1}}}},   /* exp3 */
    {0, 1, {{1, STRETCH, {2, 3}}}},                                     /* stretched */
    {-1, 1, {{0, THETA, {1, -1}}}},                                     /* stoich_limit */
    {-1, 2, {{0, THETA, {1, -1}}, {2, EXP, {3, -1}}}},                  /* stoich_rc */
    {0, 1, {{1, POWER, {2, 3}}}},                                       /* power */
    {0, 2, {{1, EXP, {2, -1}}, {3, POWER, {4, 5}}}},                    /* exp1_power */
};

static const int N_ARGS[8] = {3, 5, 7, 4, 2, 4, 4, 6}; /* the models' parameters */

/* transients.stoich_limit's bracket: the theta sum with Jacobi's identity below u = 1. */
static double theta_shape(double t, double tau_d) {
    double u = nmax(4.0 * M_PI * t / tau_d, 1e-300);
    int small = u < 1.0;
    double v = small ? 1.0 / u : u;
    double q = exp(-M_PI * v), q2 = q * q;
    double odd = q, pw = q, total = q;
    for (int k = 0; k < 2; k++) { /* transients._THETA_TERMS - 1 */
        odd = odd * q2;
        pw = pw * odd;
        total += pw;
    }
    double theta = 1.0 + 2.0 * total;
    return small ? theta / sqrt(u) : theta;
}

/* The shapes of one parameter at one time (the power-law shapes: shape_values). */
static double shape_at(int shape, double t, double p0) {
    return shape == EXP ? exp(-t / p0) : theta_shape(t, p0); /* tau; tau_d */
}

/* The shape of every term at every node, for the last two parameter values each term met:
 * a Jacobian column that moves an amplitude (or another term's time constant) reuses the
 * base point's exponentials, the same numbers without recomputing them. */
typedef struct {
    double key[2][2];
    int valid[2], last;
    double *values[2];
} Cache;

static const double *shape_values(const Problem *p, Cache *c, const Term *term,
                                  const double *a) {
    double k0 = a[term->par[0]], k1 = term->par[1] >= 0 ? a[term->par[1]] : 0.0;
    for (int s = 0; s < 2; s++)
        if (c->valid[s] && c->key[s][0] == k0 && c->key[s][1] == k1) {
            c->last = s;
            return c->values[s];
        }
    int s = 1 - c->last;
    double *out = c->values[s];
    int n = p->nb * NODES;
    if (term->shape == STRETCH || term->shape == POWER) {
        /* (t / tau)^beta as exp(beta (log t - log tau)), log t once per fit: two
         * exponentials instead of a power (a third of the time; the same to rounding) */
        const double *lt = p->lognodes;
        if (term->shape == STRETCH) {
            double lk = log(k0);
            for (int i = 0; i < n; i++) out[i] = exp(-exp(k1 * (lt[i] - lk)));
        } else {
            double lk = log(k1);
            for (int i = 0; i < n; i++) out[i] = exp(-k0 * (lt[i] - lk));
        }
    } else {
        for (int i = 0; i < n; i++) out[i] = shape_at(term->shape, p->nodes[i], k0);
    }
    c->key[s][0] = k0;
    c->key[s][1] = k1;
    c->valid[s] = 1;
    c->last = s;
    return out;
}

/* Whitened residual at x (Binned.average - y, times the whitener). */
static void residual(const Problem *p, Cache *cache, const double *x, double *f) {
    double all[MAXP], a[MAXP];
    point(p, x, all);
    for (int k = 0; k < p->nargs; k++) a[k] = all[p->args[k]];
    const Layout *lay = &LAYOUTS[p->model];
    const double *shape[3];
    double amp[3];
    for (int k = 0; k < lay->n_terms; k++) {
        shape[k] = shape_values(p, &cache[k], &lay->terms[k], a);
        amp[k] = a[lay->terms[k].amp];
    }
    double *r = p->full ? p->raw : f;
    for (int b = 0; b < p->nb; b++) {
        const double *w = p->weights + NODES * b;
        double s = 0.0;
        for (int k = 0; k < NODES; k++) {
            int i = NODES * b + k;
            double v = lay->constant >= 0 ? a[lay->constant] + amp[0] * shape[0][i]
                                          : amp[0] * shape[0][i];
            for (int m = 1; m < lay->n_terms; m++) v += amp[m] * shape[m][i];
            s = k == 0 ? v * w[0] : s + v * w[k];
        }
        r[b] = s - p->y[b];
    }
    if (p->full) { /* full == 2: lower triangular (an inverse Cholesky factor) */
        for (int i = 0; i < p->nb; i++) {
            const double *wi = p->whiten + (size_t)i * p->nb;
            int end = p->full == 2 ? i + 1 : p->nb, j = 0;
            double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
            for (; j + 3 < end; j += 4) {
                s0 += wi[j] * r[j];
                s1 += wi[j + 1] * r[j + 1];
                s2 += wi[j + 2] * r[j + 2];
                s3 += wi[j + 3] * r[j + 3];
            }
            for (; j < end; j++) s0 += wi[j] * r[j];
            f[i] = (s0 + s1) + (s2 + s3);
        }
    } else {
        for (int b = 0; b < p->nb; b++) f[b] = r[b] * p->whiten[b];
    }
}

static double dot(const double *u, const double *v, int n) {
    double s = 0.0;
    for (int i = 0; i < n; i++) s += u[i] * v[i];
    return s;
}

/* One start's evaluation budget and best point (lsq.least_squares_many). */
typedef struct {
    const Problem *p;
    int64_t count, max_nfev;
    double best_cost, best_x[MAXV];
    int has_best;
    Cache cache[3];
} Budget;

/* f at x; 0, or ABORTED when the budget is spent. */
static int eval_f(Budget *bg, const double *x, double *f) {
    bg->count += 1;
    if (bg->count > bg->max_nfev) return ABORTED;
    residual(bg->p, bg->cache, x, f);
    double cost = dot(f, f, bg->p->nb); /* NaN is never the best */
    if (cost < bg->best_cost) {
        bg->best_cost = cost;
        memcpy(bg->best_x, x, sizeof(double) * bg->p->nv);
        bg->has_best = 1;
    }
    return 0;
}

/* Forward-difference Jacobian (nb x nv, row-major) with scipy's steps (lsq._forward_steps);
 * 0, ABORTED or NOT_FINITE. */
static int eval_j(Budget *bg, const double *x, const double *f, double *j, double *fc) {
    const Problem *p = bg->p;
    int nv = p->nv, nb = p->nb;
    bg->count += nv;
    if (bg->count > bg->max_nfev) return ABORTED;
    const double sqeps = sqrt(2.220446049250313e-16);
    for (int c = 0; c < nv; c++) {
        double xv = x[c], lo = p->lo[c], hi = p->hi[c];
        double h = sqeps * (xv >= 0 ? 1.0 : -1.0) * fmax(1.0, fabs(xv));
        if (!(lo == -INFINITY && hi == INFINITY)) {
            double lower = xv - lo, upper = hi - xv;
            if (fabs(h) <= nmax(lower, upper)) {
                if (xv + h < lo || xv + h > hi) h = -h;
            } else {
                h = upper >= lower ? upper : -lower;
            }
        }
        double xc[MAXV];
        memcpy(xc, x, sizeof(double) * nv);
        xc[c] += h;
        residual(p, bg->cache, xc, fc);
        double d = (xv + h) - xv;
        for (int b = 0; b < nb; b++) {
            double v = (fc[b] - f[b]) / d;
            if (!isfinite(v)) return NOT_FINITE;
            j[(size_t)b * nv + c] = v;
        }
    }
    return 0;
}

/* J^T J and J^T f. */
static void normal(const double *j, const double *f, int nb, int nv, double *a, double *g) {
    for (int r = 0; r < nv; r++) {
        double s = 0.0;
        for (int b = 0; b < nb; b++) s += j[(size_t)b * nv + r] * f[b];
        g[r] = s;
        for (int c = r; c < nv; c++) {
            double t = 0.0;
            for (int b = 0; b < nb; b++) t += j[(size_t)b * nv + r] * j[(size_t)b * nv + c];
            a[r * nv + c] = a[c * nv + r] = t;
        }
    }
}

/* Minimum-norm least squares of a symmetric system (numpy.linalg.lstsq's answer where
 * the damped matrix is singular), by cyclic Jacobi rotations. */
static void lstsq_sym(double *m, const double *b, double *x, int n) {
    double v[MAXV * MAXV];
    for (int i = 0; i < n * n; i++) v[i] = 0.0;
    for (int i = 0; i < n; i++) v[i * n + i] = 1.0;
    for (int sweep = 0; sweep < 60; sweep++) {
        double off = 0.0;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++) off += m[p * n + q] * m[p * n + q];
        if (off < 1e-300) break;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++) {
                double apq = m[p * n + q];
                if (apq == 0.0) continue;
                double theta = (m[q * n + q] - m[p * n + p]) / (2.0 * apq);
                double t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1.0));
                double c = 1.0 / sqrt(t * t + 1.0), s = t * c;
                for (int k = 0; k < n; k++) {
                    double mkp = m[k * n + p], mkq = m[k * n + q];
                    m[k * n + p] = c * mkp - s * mkq;
                    m[k * n + q] = s * mkp + c * mkq;
                }
                for (int k = 0; k < n; k++) {
                    double mpk = m[p * n + k], mqk = m[q * n + k];
                    m[p * n + k] = c * mpk - s * mqk;
                    m[q * n + k] = s * mpk + c * mqk;
                }
                for (int k = 0; k < n; k++) {
                    double vkp = v[k * n + p], vkq = v[k * n + q];
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
    }
    double smax = 0.0;
    for (int i = 0; i < n; i++) smax = fmax(smax, fabs(m[i * n + i]));
    double cut = 2.220446049250313e-16 * n * smax;
    for (int i = 0; i < n; i++) x[i] = 0.0;
    for (int e = 0; e < n; e++) {
        double lam = m[e * n + e];
        if (!(fabs(lam) > cut)) continue;
        double proj = 0.0;
        for (int k = 0; k < n; k++) proj += v[k * n + e] * b[k];
        for (int k = 0; k < n; k++) x[k] += v[k * n + e] * proj / lam;
    }
}

/* a x = b (n x n, a overwritten) by LU with partial pivoting (LAPACK dgesv's algorithm),
 * least squares when a pivot is exactly zero (marquardt._solve). */
static void solve(double *a, const double *b, double *x, int n) {
    double lu[MAXV * MAXV], rhs[MAXV];
    memcpy(lu, a, sizeof(double) * n * n);
    memcpy(rhs, b, sizeof(double) * n);
    for (int k = 0; k < n; k++) {
        int piv = k;
        double best = fabs(lu[k * n + k]);
        for (int i = k + 1; i < n; i++)
            if (fabs(lu[i * n + k]) > best) { best = fabs(lu[i * n + k]); piv = i; }
        if (lu[piv * n + k] == 0.0) { lstsq_sym(a, b, x, n); return; }
        if (piv != k) {
            for (int c = 0; c < n; c++) {
                double t = lu[k * n + c]; lu[k * n + c] = lu[piv * n + c]; lu[piv * n + c] = t;
            }
            double t = rhs[k]; rhs[k] = rhs[piv]; rhs[piv] = t;
        }
        for (int i = k + 1; i < n; i++) {
            double l = lu[i * n + k] / lu[k * n + k];
            lu[i * n + k] = l;
            for (int c = k + 1; c < n; c++) lu[i * n + c] -= l * lu[k * n + c];
            rhs[i] -= l * rhs[k];
        }
    }
    for (int i = n - 1; i >= 0; i--) {
        double s = rhs[i];
        for (int c = i + 1; c < n; c++) s -= lu[i * n + c] * x[c];
        x[i] = s / lu[i * n + i];
    }
}

/* marquardt._iterate for one start; the status, with x, f, jac at the end. */
static int iterate(Budget *bg, const double *x0, double ftol, double xtol, double gtol,
                   int64_t max_iter, double *x, double *f, double *j, double *work) {
    const Problem *p = bg->p;
    int nv = p->nv, nb = p->nb, st;
    double *f_new = work, *fc = work + nb;
    double a[MAXV * MAXV], g[MAXV], scale2[MAXV], h[MAXV], x_new[MAXV], step[MAXV];
    for (int c = 0; c < nv; c++) x[c] = nmin(nmax(x0[c], p->lo[c]), p->hi[c]);
    if ((st = eval_f(bg, x, f))) return st;
    double cost = 0.5 * dot(f, f, nb);
    if (!isfinite(cost)) return NOT_FINITE;
    if ((st = eval_j(bg, x, f, j, fc))) return st;
    normal(j, f, nb, nv, a, g);
    for (int c = 0; c < nv; c++) scale2[c] = fmax(a[c * nv + c], 1e-300);
    double mu = TAU0, nu = 2.0;
    for (int64_t it = 0; it < max_iter; it++) {
        int free_[MAXV], n_free = 0;
        double gmax = -INFINITY;
        for (int c = 0; c < nv; c++) {
            int active = (x[c] <= p->lo[c] && g[c] > 0) || (x[c] >= p->hi[c] && g[c] < 0);
            free_[c] = !active;
            if (!active) {
                n_free++;
                gmax = nmax(gmax, fabs(g[c]) * nmax(fabs(x[c]), 1.0));
            }
        }
        if (n_free == 0 || gmax <= gtol * fmax(2.0 * cost, 1e-300)) return OK_CONVERGED;
        {   /* the damped step on the free parameters */
            double af[MAXV * MAXV], gf[MAXV], hf[MAXV];
            int idx[MAXV], m = 0;
            for (int c = 0; c < nv; c++) if (free_[c]) idx[m++] = c;
            for (int r = 0; r < m; r++) {
                for (int c = 0; c < m; c++) af[r * m + c] = a[idx[r] * nv + idx[c]];
                af[r * m + r] += mu * scale2[idx[r]];
                gf[r] = -g[idx[r]];
            }
            solve(af, gf, hf, m);
            for (int c = 0; c < nv; c++) h[c] = 0.0;
            for (int r = 0; r < m; r++) h[idx[r]] = hf[r];
        }
        for (int c = 0; c < nv; c++) {
            x_new[c] = nmin(nmax(x[c] + h[c], p->lo[c]), p->hi[c]);
            step[c] = x_new[c] - x[c];
        }
        if (sqrt(dot(step, step, nv)) <= xtol * (xtol + sqrt(dot(x, x, nv)))) return OK_CONVERGED;
        double sa[MAXV];
        for (int c = 0; c < nv; c++) {
            double s = 0.0;
            for (int r = 0; r < nv; r++) s += step[r] * a[r * nv + c];
            sa[c] = s;
        }
        double predicted = -dot(step, g, nv) - 0.5 * dot(sa, step, nv);
        if ((st = eval_f(bg, x_new, f_new))) return st;
        double cost_new = 0.5 * dot(f_new, f_new, nb);
        double gain = (predicted > 0 && isfinite(cost_new)) ? (cost - cost_new) / predicted : -1.0;
        if (gain > 0) {
            int done = cost - cost_new <= ftol * cost;
            memcpy(x, x_new, sizeof(double) * nv);
            memcpy(f, f_new, sizeof(double) * nb);
            cost = cost_new;
            if ((st = eval_j(bg, x, f, j, fc))) return st;
            normal(j, f, nb, nv, a, g);
            for (int c = 0; c < nv; c++) scale2[c] = nmax(scale2[c], a[c * nv + c]);
            if (done) return OK_CONVERGED;
            double cube = 2.0 * gain - 1.0;
            mu *= fmax(1.0 / 3.0, 1.0 - cube * cube * cube);
            nu = 2.0;
        } else {
            mu *= nu;
            nu *= 2.0;
            if (mu > MAX_DAMPING) return OK_UNCONVERGED;
        }
    }
    return OK_UNCONVERGED;
}

typedef struct {
    Py_buffer b;
    int held;
} Buf;

static int take(PyObject *obj, Buf *buf, int writable, Py_ssize_t itemsize, Py_ssize_t n,
                const char *name) {
    int flags = PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, &buf->b, flags) < 0) return -1;
    buf->held = 1;
    if (buf->b.len != itemsize * n) {
        PyErr_Format(PyExc_ValueError, "_lmcore: %s holds %zd bytes, expected %zd", name,
                     buf->b.len, itemsize * n);
        return -1;
    }
    return 0;
}

static PyObject *fit_many(PyObject *self, PyObject *pyargs) {
    (void)self;
    int model, full, nb, np_, nv, nargs, k;
    long long max_nfev, max_iter;
    double ftol, xtol, gtol;
    PyObject *o[24];
    if (!PyArg_ParseTuple(pyargs, "iiiiiiiLdddLOOOOOOOOOOOOOOOOOOOOOOOO", &model, &full, &nb,
                          &np_, &nv, &nargs, &k, &max_nfev, &ftol, &xtol, &gtol, &max_iter,
                          &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &o[6], &o[7], &o[8],
                          &o[9], &o[10], &o[11], &o[12], &o[13], &o[14], &o[15], &o[16],
                          &o[17], &o[18], &o[19], &o[20], &o[21], &o[22], &o[23]))
        return NULL;
    if (model < 0 || model > 7 || nb < 1 || np_ < 1 || np_ > MAXP || nv < 1 || nv > MAXV ||
        nargs < 1 || nargs > np_ || k < 1 || nargs != N_ARGS[model]) {
        PyErr_SetString(PyExc_ValueError, "_lmcore: problem size out of range");
        return NULL;
    }
    Buf bufs[24];
    memset(bufs, 0, sizeof bufs);
    /* name, writable, item size, items */
    struct { const char *name; int w; Py_ssize_t size, n; } spec[24] = {
        {"nodes", 0, 8, (Py_ssize_t)nb * NODES}, {"weights", 0, 8, (Py_ssize_t)nb * NODES},
        {"y", 0, 8, nb}, {"whiten", 0, 8, full ? (Py_ssize_t)nb * nb : nb},
        {"kind", 0, 8, np_}, {"ref", 0, 8, np_}, {"val", 0, 8, np_}, {"plo", 0, 8, np_},
        {"phi", 0, 8, np_}, {"fac_start", 0, 8, np_}, {"fac_len", 0, 8, np_},
        {"fac_idx", 0, 8, -1}, {"args", 0, 8, nargs}, {"lo", 0, 8, nv}, {"hi", 0, 8, nv},
        {"x0", 0, 8, (Py_ssize_t)k * nv}, {"x_out", 1, 8, (Py_ssize_t)k * nv},
        {"jac_out", 1, 8, (Py_ssize_t)k * nb * nv}, {"status", 1, 8, k}, {"count", 1, 8, k},
        {"best_x", 1, 8, (Py_ssize_t)k * nv}, {"has_best", 1, 8, k}, {"cost", 1, 8, k},
        {"best_cost", 1, 8, k}};
    PyObject *ret = NULL;
    double *work = NULL;
    for (int i = 0; i < 24; i++) {
        if (spec[i].n < 0) { /* any length */
            if (PyObject_GetBuffer(o[i], &bufs[i].b, PyBUF_C_CONTIGUOUS) < 0) goto done;
            bufs[i].held = 1;
            continue;
        }
        if (take(o[i], &bufs[i], spec[i].w, spec[i].size, spec[i].n, spec[i].name) < 0)
            goto done;
    }
    Problem p = {model, nb, full, np_, nv, nargs,
                 bufs[0].b.buf, bufs[1].b.buf, bufs[2].b.buf, bufs[3].b.buf,
                 bufs[4].b.buf, bufs[5].b.buf, bufs[9].b.buf, bufs[10].b.buf, bufs[11].b.buf,
                 bufs[12].b.buf, bufs[6].b.buf, bufs[7].b.buf, bufs[8].b.buf, bufs[13].b.buf,
                 bufs[14].b.buf, NULL, NULL};
    Py_ssize_t n_fac = bufs[11].b.len / 8;
    for (int j = 0; j < np_; j++) {
        int64_t kind = p.kind[j];
        if (kind < 0 || kind > 2 || (kind == 0 && (p.ref[j] < 0 || p.ref[j] >= nv)) ||
            (kind == 2 && (p.fac_start[j] < 0 || p.fac_len[j] < 0 ||
                           p.fac_start[j] > n_fac ||   /* no overflow: both >= 0 */
                           p.fac_len[j] > n_fac - p.fac_start[j]))) {
            PyErr_SetString(PyExc_ValueError, "_lmcore: malformed parameter program");
            goto done;
        }
    }
    for (Py_ssize_t i = 0; i < n_fac; i++)
        if (p.fac_idx[i] < 0 || p.fac_idx[i] >= np_) {
            PyErr_SetString(PyExc_ValueError, "_lmcore: malformed parameter program");
            goto done;
        }
    for (int i = 0; i < nargs; i++)
        if (p.args[i] < 0 || p.args[i] >= np_) {
            PyErr_SetString(PyExc_ValueError, "_lmcore: malformed parameter program");
            goto done;
        }
    size_t nodes_n = (size_t)nb * NODES;
    work = malloc(sizeof(double) * ((size_t)nb * 3 + 7 * nodes_n));
    if (!work) { PyErr_NoMemory(); goto done; }
    p.raw = work + 2 * nb;
    p.lognodes = work + 3 * (size_t)nb + 6 * nodes_n;
    {   /* the floor of the model's power: 0 for stretched (log 0 = -inf: the shape is 1
         * there, as pow(0, beta) makes it), 1e-12 s for the power laws */
        double floor_t = model == 3 ? 0.0 : 1e-12;
        for (size_t i = 0; i < nodes_n; i++)
            p.lognodes[i] = log(p.nodes[i] > floor_t ? p.nodes[i] : floor_t);
    }
    const double *x0 = bufs[15].b.buf;
    double *x_out = bufs[16].b.buf, *jac = bufs[17].b.buf, *best_x = bufs[20].b.buf;
    int64_t *status = bufs[18].b.buf, *count = bufs[19].b.buf, *has_best = bufs[21].b.buf;
    double *cost = bufs[22].b.buf, *best_cost = bufs[23].b.buf;
    double *f = malloc(sizeof(double) * (size_t)nb);
    if (!f) { PyErr_NoMemory(); goto done; }
    Py_BEGIN_ALLOW_THREADS
    for (int s = 0; s < k; s++) {
        Budget bg = {&p, 0, (int64_t)max_nfev, INFINITY, {0}, 0, {{{{0}}}}};
        for (int t = 0; t < 3; t++)
            for (int c = 0; c < 2; c++)
                bg.cache[t].values[c] = work + 3 * (size_t)nb + (2 * t + c) * nodes_n;
        status[s] = iterate(&bg, x0 + (size_t)s * nv, ftol, xtol, gtol, (int64_t)max_iter,
                            x_out + (size_t)s * nv, f, jac + (size_t)s * nb * nv, work);
        count[s] = bg.count;
        has_best[s] = bg.has_best;
        cost[s] = dot(f, f, nb); /* at x_out (meaningful where the start converged or not) */
        best_cost[s] = bg.best_cost;
        memcpy(best_x + (size_t)s * nv, bg.best_x, sizeof(double) * nv);
    }
    Py_END_ALLOW_THREADS
    free(f);
    ret = Py_None;
    Py_INCREF(ret);
done:
    free(work);
    for (int i = 0; i < 24; i++)
        if (bufs[i].held) PyBuffer_Release(&bufs[i].b);
    return ret;
}

/* A C-contiguous buffer of 8-byte items (float64 or int64), read-only or writable. */
static int as_f64(PyObject *o, Py_buffer *b, int writable, const char *name) {
    if (PyObject_GetBuffer(o, b, PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0)) < 0)
        return -1;
    if (b->len % 8) {
        PyErr_Format(PyExc_ValueError, "_lmcore: %s is not an array of 8-byte items", name);
        PyBuffer_Release(b);
        return -1;
    }
    return 0;
}

/* ---- the grid starts' variable projection (sescreen/dcpol/grid.py::_project) -------- */

/* For every combination of basis columns (rows of combos, k each), the amplitudes that
 * minimize the weighted chi-square: the k x k block of the normalized Gram matrix plus
 * a ridge, solved, rescaled, NaN to 0, clipped into [lo, hi]; and that point's
 * chi-square yy - 2 c.r + c.A.c (A without the ridge). Returns the index of the least
 * (the first of equals; a non-finite one never; the first when none is finite, as
 * numpy.argmin over infinities) and writes its amplitudes to coef. */
static PyObject *project(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *o[7];
    double yy, ridge;
    int k;
    if (!PyArg_ParseTuple(args, "OOOOiOOddO", &o[0], &o[1], &o[2], &o[3], &k, &o[4], &o[5],
                          &yy, &ridge, &o[6]))
        return NULL;
    Py_buffer b[7];
    int held = 0;
    PyObject *ret = NULL;
    static const char *names[7] = {"gram", "rhs", "scale", "combos", "lo", "hi", "coef"};
    for (; held < 7; held++)
        if (as_f64(o[held], &b[held], held == 6, names[held]) < 0) goto done;
    Py_ssize_t nc = b[1].len / 8, ncombo = k > 0 ? b[3].len / 8 / k : 0;
    if (k < 1 || k > MAXV || b[0].len / 8 != nc * nc || b[2].len / 8 != nc ||
        b[3].len / 8 != ncombo * k || b[4].len / 8 != k || b[5].len / 8 != k ||
        b[6].len / 8 != k || ncombo < 1) {
        PyErr_SetString(PyExc_ValueError, "_lmcore: project sizes");
        goto done;
    }
    const double *gram = b[0].buf, *rhs = b[1].buf, *scale = b[2].buf, *lo = b[4].buf,
                 *hi = b[5].buf;
    const int64_t *combos = b[3].buf;
    double *coef = b[6].buf;
    for (Py_ssize_t i = 0; i < ncombo * k; i++)
        if (combos[i] < 0 || combos[i] >= nc) {
            PyErr_SetString(PyExc_ValueError, "_lmcore: combos index past the columns");
            goto done;
        }
    Py_ssize_t best = 0;
    double best_chi2 = INFINITY;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t g = 0; g < ncombo; g++) {
        const int64_t *c = combos + g * k;
        double a[MAXV * MAXV], ar[MAXV * MAXV], r[MAXV], x[MAXV], cs[MAXV];
        for (int i = 0; i < k; i++) {
            r[i] = rhs[c[i]];
            for (int j = 0; j < k; j++) {
                a[i * k + j] = gram[c[i] * nc + c[j]];
                ar[i * k + j] = a[i * k + j] + (i == j ? ridge : 0.0);
            }
        }
        solve(ar, r, x, k);
        for (int i = 0; i < k; i++) {
            double v = x[i] / scale[c[i]];
            if (isnan(v)) v = 0.0;
            else if (isinf(v)) v = v > 0 ? 1.7976931348623157e308 : -1.7976931348623157e308;
            /* numpy.clip: minimum(maximum(v, lo), hi), a NaN bound giving NaN and
             * lo > hi giving hi */
            v = (v < lo[i] || isnan(lo[i])) ? lo[i] : v;
            v = (v > hi[i] || isnan(hi[i])) ? hi[i] : v;
            x[i] = v;
            cs[i] = v * scale[c[i]];
        }
        double cr = 0.0, cac = 0.0;
        for (int i = 0; i < k; i++) {
            cr += cs[i] * r[i];
            double row = 0.0;
            for (int j = 0; j < k; j++) row += a[i * k + j] * cs[j];
            cac += cs[i] * row;
        }
        double chi2 = yy - 2.0 * cr + cac;
        if (g == 0) /* numpy's argmin when every chi-square is infinite */
            for (int i = 0; i < k; i++) coef[i] = x[i];
        if (isfinite(chi2) && chi2 < best_chi2) {
            best_chi2 = chi2;
            best = g;
            for (int i = 0; i < k; i++) coef[i] = x[i];
        }
    }
    Py_END_ALLOW_THREADS
    ret = PyLong_FromSsize_t(best);
done:
    for (int i = 0; i < held; i++) PyBuffer_Release(&b[i]);
    return ret;
}

/* ---- one pass over the raw samples (sescreen/dcpol/record.py) ------------------------ */

/* Append k to a growing array (doubling it when full); 1 when out of memory. */
static int push_index(int64_t **items, Py_ssize_t *cap, Py_ssize_t *n, int64_t k) {
    if (*n == *cap) {
        int64_t *more = realloc(*items, sizeof(int64_t) * (size_t)(*cap) * 2);
        if (!more) return 1;
        *items = more;
        *cap *= 2;
    }
    (*items)[(*n)++] = k;
    return 0;
}

/* record._square_sums: the squared second differences d[k] = (y[k+2] - y[k+1]) -
 * (y[k+1] - y[k]) summed over all k (compensated) and over each run [lo_r, hi_r) (sorted,
 * disjoint), and the k whose square exceeds limit2. Returns (total, indices as bytes). */
static PyObject *second_difference_sums(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *oy, *olo, *ohi, *oout;
    double limit2;
    if (!PyArg_ParseTuple(args, "OOOdO", &oy, &olo, &ohi, &limit2, &oout)) return NULL;
    Py_buffer by, blo, bhi, bout;
    int held = 0;
    PyObject *ret = NULL;
    int64_t *far = NULL;
    if (as_f64(oy, &by, 0, "y") < 0) return NULL;
    held = 1;
    if (as_f64(olo, &blo, 0, "run_lo") < 0) goto done;
    held = 2;
    if (as_f64(ohi, &bhi, 0, "run_hi") < 0) goto done;
    held = 3;
    if (as_f64(oout, &bout, 1, "in_bin") < 0) goto done;
    held = 4;
    Py_ssize_t n = by.len / 8, runs = blo.len / 8, m = n - 2;
    const double *y = by.buf;
    const int64_t *lo = blo.buf, *hi = bhi.buf;
    double *in_bin = bout.buf;
    if (m < 1 || bhi.len / 8 != runs || bout.len / 8 != runs) {
        PyErr_SetString(PyExc_ValueError, "_lmcore: second_difference_sums sizes");
        goto done;
    }
    for (Py_ssize_t r = 0; r < runs; r++)
        if (lo[r] < 0 || hi[r] < lo[r] || hi[r] > m || (r && lo[r] < hi[r - 1])) {
            PyErr_SetString(PyExc_ValueError, "_lmcore: runs must be sorted and disjoint");
            goto done;
        }
    Py_ssize_t cap = 1024, n_far = 0;
    far = malloc(sizeof(int64_t) * cap);
    if (!far) { PyErr_NoMemory(); goto done; }
    double total = 0.0, comp = 0.0;
    int oom = 0;
    Py_BEGIN_ALLOW_THREADS
    /* segments between the run boundaries: inside one the in-bin target is fixed; four
     * partial sums break the chain of dependent additions */
    Py_ssize_t a = 0, r = 0;
    while (a < m && !oom) {
        int inside = r < runs && a >= lo[r];
        Py_ssize_t b = inside ? hi[r] : (r < runs ? lo[r] : m);
        double p0 = 0.0, p1 = 0.0, p2 = 0.0, p3 = 0.0;
        Py_ssize_t k = a;
        for (; k + 3 < b; k += 4) {
            double d0 = (y[k + 2] - y[k + 1]) - (y[k + 1] - y[k]);
            double d1 = (y[k + 3] - y[k + 2]) - (y[k + 2] - y[k + 1]);
            double d2 = (y[k + 4] - y[k + 3]) - (y[k + 3] - y[k + 2]);
            double d3 = (y[k + 5] - y[k + 4]) - (y[k + 4] - y[k + 3]);
            double q0 = d0 * d0, q1 = d1 * d1, q2 = d2 * d2, q3 = d3 * d3;
            p0 += q0;
            p1 += q1;
            p2 += q2;
            p3 += q3;
            if (q0 > limit2 || q1 > limit2 || q2 > limit2 || q3 > limit2) {
                double q[4] = {q0, q1, q2, q3};
                for (int j = 0; j < 4 && !oom; j++)
                    if (q[j] > limit2) oom = push_index(&far, &cap, &n_far, k + j);
            }
        }
        for (; k < b && !oom; k++) {
            double d = (y[k + 2] - y[k + 1]) - (y[k + 1] - y[k]), q = d * d;
            p0 += q;
            if (q > limit2) oom = push_index(&far, &cap, &n_far, k);
        }
        double part = (p0 + p1) + (p2 + p3);
        double sum = total + part; /* Neumaier */
        comp += fabs(total) >= fabs(part) ? (total - sum) + part : (part - sum) + total;
        total = sum;
        if (inside) in_bin[r++] += part;
        a = b;
    }
    Py_END_ALLOW_THREADS
    if (oom) { PyErr_NoMemory(); goto done; }
    if (isfinite(total)) total += comp;
    PyObject *idx = PyBytes_FromStringAndSize((const char *)far, n_far * 8);
    if (!idx) goto done;
    ret = Py_BuildValue("(dN)", total, idx);
done:
    free(far);
    if (held >= 4) PyBuffer_Release(&bout);
    if (held >= 3) PyBuffer_Release(&bhi);
    if (held >= 2) PyBuffer_Release(&blo);
    if (held >= 1) PyBuffer_Release(&by);
    return ret;
}

/* record._second_difference_sample: the second differences at given indices. */
static PyObject *second_differences_at(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *o[3];
    if (!PyArg_ParseTuple(args, "OOO", &o[0], &o[1], &o[2])) return NULL;
    Py_buffer b[3];
    int held = 0;
    PyObject *ret = NULL;
    static const char *names[3] = {"y", "at", "out"};
    for (; held < 3; held++)
        if (as_f64(o[held], &b[held], held == 2, names[held]) < 0) goto done;
    Py_ssize_t n = b[0].len / 8, k = b[1].len / 8;
    const double *y = b[0].buf;
    const int64_t *at = b[1].buf;
    double *out = b[2].buf;
    if (b[2].len / 8 != k) {
        PyErr_SetString(PyExc_ValueError, "_lmcore: second_differences_at sizes");
        goto done;
    }
    for (Py_ssize_t i = 0; i < k; i++)
        if (at[i] < 0 || at[i] > n - 3) {
            PyErr_SetString(PyExc_ValueError, "_lmcore: an index past the second differences");
            goto done;
        }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < k; i++) {
        const double *v = y + at[i];
        out[i] = (v[2] - v[1]) - (v[1] - v[0]);
    }
    Py_END_ALLOW_THREADS
    ret = Py_None;
    Py_INCREF(ret);
done:
    for (int i = 0; i < held; i++) PyBuffer_Release(&b[i]);
    return ret;
}

/* record._segment_sums for one array and two sets of boundaries (each strictly
 * increasing, in [0, n)): out_j[i] = sum of x[b_j[i] .. b_j[i + 1]) (the last to n), as
 * numpy.add.reduceat gives them, in one pass. */
static PyObject *segment_sums(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *o[5];
    if (!PyArg_ParseTuple(args, "OOOOO", &o[0], &o[1], &o[2], &o[3], &o[4])) return NULL;
    Py_buffer b[5];
    int held = 0;
    PyObject *ret = NULL;
    static const char *names[5] = {"x", "b1", "b2", "out1", "out2"};
    for (; held < 5; held++)
        if (as_f64(o[held], &b[held], held >= 3, names[held]) < 0) goto done;
    Py_ssize_t n = b[0].len / 8, n1 = b[1].len / 8, n2 = b[2].len / 8;
    const double *x = b[0].buf;
    const int64_t *b1 = b[1].buf, *b2 = b[2].buf;
    double *out1 = b[3].buf, *out2 = b[4].buf;
    if (b[3].len / 8 != n1 || b[4].len / 8 != n2 || n1 < 1 || n2 < 1) {
        PyErr_SetString(PyExc_ValueError, "_lmcore: segment_sums sizes");
        goto done;
    }
    for (int j = 1; j <= 2; j++) {
        const int64_t *bb = j == 1 ? b1 : b2;
        Py_ssize_t nn = j == 1 ? n1 : n2;
        for (Py_ssize_t i = 0; i < nn; i++)
            if (bb[i] < 0 || bb[i] >= n || (i && bb[i] <= bb[i - 1])) {
                PyErr_SetString(PyExc_ValueError,
                                "_lmcore: boundaries must increase strictly within the array");
                goto done;
            }
    }
    Py_BEGIN_ALLOW_THREADS
    /* one pass over the segments between the union of both sets' boundaries (each summed
     * with four partial sums), each added to the segment of either set it lies in */
    for (Py_ssize_t i = 0; i < n1; i++) out1[i] = 0.0;
    for (Py_ssize_t i = 0; i < n2; i++) out2[i] = 0.0;
    Py_ssize_t a = b1[0] < b2[0] ? b1[0] : b2[0];
    Py_ssize_t i1 = b1[0] <= a ? 0 : -1, i2 = b2[0] <= a ? 0 : -1;
    while (a < n) {
        Py_ssize_t e1 = i1 + 1 < n1 ? b1[i1 + 1] : n, e2 = i2 + 1 < n2 ? b2[i2 + 1] : n;
        Py_ssize_t e = e1 < e2 ? e1 : e2, k = a;
        double p0 = 0.0, p1 = 0.0, p2 = 0.0, p3 = 0.0;
        for (; k + 3 < e; k += 4) {
            p0 += x[k];
            p1 += x[k + 1];
            p2 += x[k + 2];
            p3 += x[k + 3];
        }
        for (; k < e; k++) p0 += x[k];
        double part = (p0 + p1) + (p2 + p3);
        if (i1 >= 0) out1[i1] += part;
        if (i2 >= 0) out2[i2] += part;
        a = e;
        if (a == e1 && i1 + 1 < n1) i1++;
        if (a == e2 && i2 + 1 < n2) i2++;
    }
    Py_END_ALLOW_THREADS
    ret = Py_None;
    Py_INCREF(ret);
done:
    for (int i = 0; i < held; i++) PyBuffer_Release(&b[i]);
    return ret;
}

static PyMethodDef methods[] = {
    {"fit_many", fit_many, METH_VARARGS,
     "Bounded Levenberg-Marquardt of a bin-averaged transient from several starts "
     "(see sescreen.dcpol.core)."},
    {"second_difference_sums", second_difference_sums, METH_VARARGS,
     "Sums of squared second differences, in all and over runs, and the large ones."},
    {"project", project, METH_VARARGS,
     "The grid point of least weighted chi-square (variable projection) and its amplitudes."},
    {"second_differences_at", second_differences_at, METH_VARARGS,
     "Second differences of an array at given indices."},
    {"segment_sums", segment_sums, METH_VARARGS,
     "Sums of an array between boundaries, for two sets of boundaries."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_lmcore",
                                    "Compiled core of the DC fits.", -1, methods};

PyMODINIT_FUNC PyInit__lmcore(void) { return PyModule_Create(&module); }
