/*
 * Fused CPU kernels of the TF-Locoformer layers, float32: RoPE self-attention for small heads, RMSGroupNorm
 * and the SwiGLU gate, forward and backward (forwards with bfloat16 outputs too). Built on first use by
 * espnet2/enh/layers/cpu_kernels.py (gcc -O3 -march=native -fopenmp) and called through ctypes; the OpenMP
 * threads are PyTorch's own where the process has loaded PyTorch's libgomp.
 *
 * Attention. PyTorch's CPU kernels are slow when the head dimension is small (8 in the tiny config): a
 * 126 x 126 score block then costs far more in call overhead and separate softmax passes than in arithmetic.
 * Here each (batch, head) pair is one work item whose rotated keys and values stay in L1, and each query row
 * is one pass over the keys in SIMD vectors (GCC vector extensions, as wide as the CPU has).
 *
 * Layouts (row-major, contiguous), D = head dimension:
 *   qkv  [A, L, R, 3, H, D]   the output of the qkv projection: q, k, v of head h at sequence index l
 *   cs, sn [L, D/2]           cos and sin of the rotation angle of pair i at position l
 *   out  [A, L, R, H, D]      softmax(q k^T * scale) v, heads concatenated (the aggregate_heads input)
 *   lse  [A, R, H, L]         log-sum-exp of each score row (saved for the backward pass)
 *   dout [A, L, R, H, D], dqkv [A, L, R, 3, H, D]
 * RoPE rotates pairs (x[2i], x[2i+1]) of q and k: (x0 c - x1 s, x0 s + x1 c).
 *
 * Every kernel returns a status, which cpu_kernels.py checks after each call: STATUS_OK, STATUS_NO_MEMORY (a
 * work buffer could not be allocated: the outputs are incomplete) or STATUS_BAD_SHAPE (arguments the kernel
 * does not support, said in its comment: nothing was written).
 */
#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <stdlib.h>
#include <string.h>

#define MAX_D 64 /* largest head dimension */

enum { STATUS_OK = 0, STATUS_NO_MEMORY = 1, STATUS_BAD_SHAPE = 2 };

#if defined(__AVX512F__)
#define VW 16
#elif defined(__AVX__)
#define VW 8
#else
#define VW 4
#endif
typedef float vf __attribute__((vector_size(4 * VW)));
typedef int vi __attribute__((vector_size(4 * VW)));
typedef float vfu __attribute__((vector_size(4 * VW), aligned(4))); /* unaligned loads and stores */
#define INLINE static inline __attribute__((always_inline))
#define VLOAD(p) (*(const vf *)(p))
#define VREF(p) (*(vf *)(p))

typedef struct {
    const float *qkv, *cs, *sn, *out, *lse_in, *dout;
    float *out_w, *lse_w, *dqkv;
    long A, L, R, H, D;
    long Lp; /* L rounded up to a multiple of VW: the row stride of the transposed buffers */
    float scale;
    int backward;
} Job;

INLINE vf vsplat(float x) { return (vf){0} + x; }

INLINE vf vselect(vi mask, vf a, vf b) { return (vf)(((vi)a & mask) | ((vi)b & ~mask)); }

INLINE vf vmax(vf a, vf b) { return vselect(a > b, a, b); }

/* v rotated by w lanes: lane t holds v[(t + w) mod VW]. */
INLINE vf vrotate(vf v, int w) {
    vi idx;
    for (int t = 0; t < VW; t++) idx[t] = (t + w) & (VW - 1);
    return __builtin_shuffle(v, idx);
}

/* Horizontal sum and maximum as log2(VW) rotate-and-combine steps. */
INLINE float hsum(vf v) {
#pragma GCC unroll 8
    for (int w = VW / 2; w > 0; w /= 2) v += vrotate(v, w);
    return v[0];
}

INLINE float hmax(vf v) {
#pragma GCC unroll 8
    for (int w = VW / 2; w > 0; w /= 2) v = vmax(v, vrotate(v, w));
    return v[0];
}

/* exp(x) to about 1 ulp for x in [-87, 88] (Cephes expf: Cody-Waite reduction, degree-6 polynomial);
 * smaller x gives exp(-87) ~ 1.6e-38 instead of a denormal or 0, larger x exp(88). NaN stays NaN. */
INLINE vf vexp(vf x) {
    x = vselect(x < -87.0f, vsplat(-87.0f), x);
    x = vselect(x > 88.0f, vsplat(88.0f), x);
    const vi biased = __builtin_convertvector(x * 1.44269504088896341f + 127.5f, vi); /* round(x/ln2) + 127 */
    const vf n = __builtin_convertvector(biased, vf) - 127.0f;
    vf r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    vf p = vsplat(1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    return p * (vf)(biased << 23);
}

/* Lanes of the block starting at key k that hold real keys (k + t < L). */
INLINE vi valid_lanes(long k, long L) {
    vi lane;
    for (int t = 0; t < VW; t++) lane[t] = t;
    return lane < (vi){0} + (int)(L - k);
}

/* Offset of row l of item (a, r, h) in a [A, L, R, n_slots, H, D] tensor, slot s. */
INLINE long row_offset(const Job *j, long a, long r, long h, long l, long n_slots, long slot) {
    return ((((a * j->L + l) * j->R + r) * n_slots + slot) * j->H + h) * j->D;
}

/* Rotate the pairs of x (length D) at position l into y; sign = -1 applies the inverse rotation. */
INLINE void rotate(const Job *j, const float *x, float *y, long l, float sign) {
    const long half = j->D / 2;
    const float *c = j->cs + l * half, *s = j->sn + l * half;
    for (long i = 0; i < half; i++) {
        const float x0 = x[2 * i], x1 = x[2 * i + 1], si = sign * s[i];
        y[2 * i] = x0 * c[i] - x1 * si;
        y[2 * i + 1] = x0 * si + x1 * c[i];
    }
}

/* Row l of item (a, r, h): q rotated and scaled, k rotated, v, each D floats. */
INLINE void load_row(const Job *j, long a, long r, long h, long l, float *q, float *k, float *v) {
    rotate(j, j->qkv + row_offset(j, a, r, h, l, 3, 0), q, l, 1.0f);
    for (long d = 0; d < j->D; d++) q[d] *= j->scale;
    rotate(j, j->qkv + row_offset(j, a, r, h, l, 3, 1), k, l, 1.0f);
    memcpy(v, j->qkv + row_offset(j, a, r, h, l, 3, 2), sizeof(float) * j->D);
}

/* Gather item (a, r, h) row-major: qs, ks, vs [L, D]. */
static void load_rows(const Job *j, long a, long r, long h, float *qs, float *ks, float *vs) {
    for (long l = 0; l < j->L; l++) load_row(j, a, r, h, l, qs + l * j->D, ks + l * j->D, vs + l * j->D);
}

/* Gather item (a, r, h) for the vector kernels: qs [L, D]; kt, vt [D, Lp] = k and v transposed, with zeros
 * past L. */
static void load_item(const Job *j, long a, long r, long h, float *qs, float *kt, float *vt) {
    const long L = j->L, Lp = j->Lp, D = j->D;
    float k[MAX_D] = {0}, v[MAX_D] = {0};
    for (long l = 0; l < L; l++) {
        load_row(j, a, r, h, l, qs + l * D, k, v);
        for (long d = 0; d < D; d++) {
            kt[d * Lp + l] = k[d];
            vt[d * Lp + l] = v[d];
        }
    }
    for (long d = 0; d < D; d++) {
        memset(kt + d * Lp + L, 0, sizeof(float) * (Lp - L));
        memset(vt + d * Lp + L, 0, sizeof(float) * (Lp - L));
    }
}

/* Forward of item (a, r, h) for head dimension D; buf holds L D + 2 D Lp + Lp floats, 64-byte aligned. */
INLINE void forward_item(const Job *j, long a, long r, long h, float *buf, const long D) {
    const long L = j->L, Lp = j->Lp;
    float *qs = buf, *kt = qs + j->L * D, *vt = kt + D * Lp, *p = vt + D * Lp;
    kt = (float *)(((size_t)kt + 63) & ~(size_t)63), vt = kt + D * Lp, p = vt + D * Lp;
    load_item(j, a, r, h, qs, kt, vt);
    float *lse = j->lse_w + ((a * j->R + r) * j->H + h) * L;
    const vi tail = valid_lanes(Lp - VW, L);
    for (long i = 0; i < L; i++) {
        float q[MAX_D];
        for (long d = 0; d < D; d++) q[d] = qs[i * D + d];
        vf m = vsplat(-INFINITY);
        for (long k = 0; k < Lp; k += VW) { /* scores */
            vf s = {0};
#pragma GCC unroll 64
            for (long d = 0; d < D; d++) s += q[d] * VLOAD(kt + d * Lp + k);
            if (k == Lp - VW) s = vselect(tail, s, vsplat(-INFINITY));
            VREF(p + k) = s;
            m = vmax(m, s);
        }
        const float mx = hmax(m);
        vf sum = {0}, acc[MAX_D];
#pragma GCC unroll 64
        for (long d = 0; d < D; d++) acc[d] = (vf){0};
        for (long k = 0; k < Lp; k += VW) { /* probabilities (unnormalized) and the weighted sum of values */
            const vf e = vexp(VLOAD(p + k) - mx);
            const vf pk = k == Lp - VW ? vselect(tail, e, (vf){0}) : e;
            sum += pk;
#pragma GCC unroll 64
            for (long d = 0; d < D; d++) acc[d] += pk * VLOAD(vt + d * Lp + k);
        }
        const float total = hsum(sum), inv = 1.0f / total;
        float *o = j->out_w + row_offset(j, a, r, h, i, 1, 0);
#pragma GCC unroll 64
        for (long d = 0; d < D; d++) o[d] = hsum(acc[d]) * inv;
        lse[i] = mx + logf(total);
    }
}

/* Query rows i0 .. i0+NR-1 (NR = 1 or 2) of an item for forward_wide: each key vector loaded serves every row. */
INLINE void wide_rows(const Job *j, long a, long r, long h, const float *qs, const float *kt, const float *vs,
                      float *p, float *lse, long i0, const int NR, const long D) {
    const long L = j->L, Lp = j->Lp, NV = (D + VW - 1) / VW;
    const vi tail = valid_lanes(Lp - VW, L);
    vf m[2] = {vsplat(-INFINITY), vsplat(-INFINITY)};
    for (long k = 0; k < Lp; k += VW) { /* scores */
        vf s[2] = {{0}, {0}};
#pragma GCC unroll 64
        for (long d = 0; d < D; d++) {
            const vf kv = VLOAD(kt + d * Lp + k);
            for (int n = 0; n < NR; n++) s[n] += qs[(i0 + n) * D + d] * kv;
        }
        for (int n = 0; n < NR; n++) {
            if (k == Lp - VW) s[n] = vselect(tail, s[n], vsplat(-INFINITY));
            VREF(p + n * Lp + k) = s[n];
            m[n] = vmax(m[n], s[n]);
        }
    }
    float mx[2], total[2];
    for (int n = 0; n < NR; n++) { /* probabilities, unnormalized */
        mx[n] = hmax(m[n]);
        vf sum = {0};
        for (long k = 0; k < Lp; k += VW) {
            const vf e = vexp(VLOAD(p + n * Lp + k) - mx[n]);
            const vf pk = k == Lp - VW ? vselect(tail, e, (vf){0}) : e;
            VREF(p + n * Lp + k) = pk;
            sum += pk;
        }
        total[n] = hsum(sum);
    }
    vf acc[2][MAX_D / VW];
    for (int n = 0; n < NR; n++)
        for (long v = 0; v < NV; v++) acc[n][v] = (vf){0};
    for (long k = 0; k < L; k++) { /* weighted sum of the value rows */
#pragma GCC unroll 4
        for (long v = 0; v < NV; v++) {
            const vf val = VLOAD(vs + (k * NV + v) * VW);
            for (int n = 0; n < NR; n++) acc[n][v] += p[n * Lp + k] * val;
        }
    }
    for (int n = 0; n < NR; n++) {
        float *o = j->out_w + row_offset(j, a, r, h, i0 + n, 1, 0);
        const float inv = 1.0f / total[n];
        for (long v = 0; v < D / VW; v++) *(vfu *)(o + v * VW) = acc[n][v] * inv;
        for (long d = D / VW * VW; d < D; d++) o[d] = acc[n][D / VW][d % VW] * inv;
        lse[i0 + n] = mx[n] + logf(total[n]);
    }
}

/* Forward of item (a, r, h) for heads of D > 16 (32 in the flagship). Values stay row-major, each row padded
 * with zeros to whole vectors: the weighted sum is a few vector products per key and no horizontal sums
 * (forward_item's transposed values need D of them per query row, more work than the products at L = 65).
 * Query rows go in pairs. buf: L D + D Lp + L (D + VW) + 2 Lp floats, 64-byte aligned. */
INLINE void forward_wide(const Job *j, long a, long r, long h, float *buf, const long D) {
    const long L = j->L, Lp = j->Lp, Dv = (D + VW - 1) / VW * VW;
    float *qs = buf, *kt = (float *)(((size_t)(qs + L * D) + 63) & ~(size_t)63), *vs = kt + D * Lp;
    float *p = vs + L * Dv, k[MAX_D];
    for (long l = 0; l < L; l++) {
        load_row(j, a, r, h, l, qs + l * D, k, vs + l * Dv);
        memset(vs + l * Dv + D, 0, sizeof(float) * (Dv - D));
        for (long d = 0; d < D; d++) kt[d * Lp + l] = k[d];
    }
    for (long d = 0; d < D; d++) memset(kt + d * Lp + L, 0, sizeof(float) * (Lp - L));
    float *lse = j->lse_w + ((a * j->R + r) * j->H + h) * L;
    long i = 0;
    for (; i + 1 < L; i += 2) wide_rows(j, a, r, h, qs, kt, vs, p, lse, i, 2, D);
    if (i < L) wide_rows(j, a, r, h, qs, kt, vs, p, lse, i, 1, D);
}

/* Backward of item (a, r, h) for head dimension D; buf holds L D + 4 D Lp floats, 64-byte aligned. */
INLINE void backward_item(const Job *j, long a, long r, long h, float *buf, const long D) {
    const long L = j->L, Lp = j->Lp;
    float *qs = buf, *kt = qs + j->L * D;
    kt = (float *)(((size_t)kt + 63) & ~(size_t)63);
    float *vt = kt + D * Lp, *dkt = vt + D * Lp, *dvt = dkt + D * Lp;
    load_item(j, a, r, h, qs, kt, vt);
    memset(dkt, 0, sizeof(float) * 2 * D * Lp);
    const float *lse = j->lse_in + ((a * j->R + r) * j->H + h) * L;
    const vi tail = valid_lanes(Lp - VW, L);
    for (long i = 0; i < L; i++) {
        float q[MAX_D], go[MAX_D], dq[MAX_D] = {0};
        const float *o = j->out + row_offset(j, a, r, h, i, 1, 0);
        const float *g = j->dout + row_offset(j, a, r, h, i, 1, 0);
        float delta = 0.0f;
        for (long d = 0; d < D; d++) {
            q[d] = qs[i * D + d];
            go[d] = g[d];
            delta += g[d] * o[d];
        }
        const float lse_i = lse[i];
        vf acc[MAX_D];
#pragma GCC unroll 64
        for (long d = 0; d < D; d++) acc[d] = (vf){0};
        for (long k = 0; k < Lp; k += VW) {
            vf s = {0}, dp = {0};
#pragma GCC unroll 64
            for (long d = 0; d < D; d++) {
                s += q[d] * VLOAD(kt + d * Lp + k);
                dp += go[d] * VLOAD(vt + d * Lp + k);
            }
            vf pk = vexp(s - lse_i);
            if (k == Lp - VW) pk = vselect(tail, pk, (vf){0});
            const vf ds = pk * (dp - delta); /* d loss / d score */
#pragma GCC unroll 64
            for (long d = 0; d < D; d++) {
                acc[d] += ds * VLOAD(kt + d * Lp + k);
                VREF(dkt + d * Lp + k) += ds * q[d];
                VREF(dvt + d * Lp + k) += pk * go[d];
            }
        }
#pragma GCC unroll 64
        for (long d = 0; d < D; d++) dq[d] = hsum(acc[d]) * j->scale;
        rotate(j, dq, j->dqkv + row_offset(j, a, r, h, i, 3, 0), i, -1.0f);
    }
    float tmp[MAX_D] = {0};
    for (long l = 0; l < L; l++) {
        for (long d = 0; d < D; d++) tmp[d] = dkt[d * Lp + l];
        rotate(j, tmp, j->dqkv + row_offset(j, a, r, h, l, 3, 1), l, -1.0f);
        float *dv = j->dqkv + row_offset(j, a, r, h, l, 3, 2);
        for (long d = 0; d < D; d++) dv[d] = dvt[d * Lp + l];
    }
}

/* Items with very few keys (L < VW / 2, e.g. the speaker path where L is the number of speakers): plain
 * scalar loops over row-major [L, D] buffers, no padding to the vector width. buf: 5 L D + L floats. */
static void forward_small(const Job *j, long a, long r, long h, float *buf) {
    const long L = j->L, D = j->D;
    float *qs = buf, *ks = qs + L * D, *vs = ks + L * D, *p = vs + L * D;
    load_rows(j, a, r, h, qs, ks, vs);
    float *lse = j->lse_w + ((a * j->R + r) * j->H + h) * L;
    for (long i = 0; i < L; i++) {
        float m = -INFINITY, sum = 0.0f;
        for (long k = 0; k < L; k++) {
            float s = 0.0f;
            for (long d = 0; d < D; d++) s += qs[i * D + d] * ks[k * D + d];
            p[k] = s;
            m = s > m ? s : m;
        }
        for (long k = 0; k < L; k++) sum += p[k] = expf(p[k] - m);
        float *o = j->out_w + row_offset(j, a, r, h, i, 1, 0);
        for (long d = 0; d < D; d++) {
            float acc = 0.0f;
            for (long k = 0; k < L; k++) acc += p[k] * vs[k * D + d];
            o[d] = acc / sum;
        }
        lse[i] = m + logf(sum);
    }
}

static void backward_small(const Job *j, long a, long r, long h, float *buf) {
    const long L = j->L, D = j->D;
    float *qs = buf, *ks = qs + L * D, *vs = ks + L * D, *dks = vs + L * D, *dvs = dks + L * D;
    load_rows(j, a, r, h, qs, ks, vs);
    memset(dks, 0, sizeof(float) * 2 * L * D);
    const float *lse = j->lse_in + ((a * j->R + r) * j->H + h) * L;
    for (long i = 0; i < L; i++) {
        const float *o = j->out + row_offset(j, a, r, h, i, 1, 0);
        const float *g = j->dout + row_offset(j, a, r, h, i, 1, 0);
        float delta = 0.0f, dq[MAX_D] = {0};
        for (long d = 0; d < D; d++) delta += g[d] * o[d];
        for (long k = 0; k < L; k++) {
            float s = 0.0f, dp = 0.0f;
            for (long d = 0; d < D; d++) {
                s += qs[i * D + d] * ks[k * D + d];
                dp += g[d] * vs[k * D + d];
            }
            const float p = expf(s - lse[i]), ds = p * (dp - delta);
            for (long d = 0; d < D; d++) {
                dq[d] += ds * ks[k * D + d] * j->scale;
                dks[k * D + d] += ds * qs[i * D + d];
                dvs[k * D + d] += p * g[d];
            }
        }
        rotate(j, dq, j->dqkv + row_offset(j, a, r, h, i, 3, 0), i, -1.0f);
    }
    for (long l = 0; l < L; l++) {
        rotate(j, dks + l * D, j->dqkv + row_offset(j, a, r, h, l, 3, 1), l, -1.0f);
        memcpy(j->dqkv + row_offset(j, a, r, h, l, 3, 2), dvs + l * D, sizeof(float) * D);
    }
}

/* Specializations for the usual head dimensions (loops over d unrolled, accumulators in registers). */
#define SPECIALIZE(NAME, DIM)                                                                             \
    static void forward_##NAME(const Job *j, long a, long r, long h, float *buf) {                       \
        forward_item(j, a, r, h, buf, DIM);                                                               \
    }                                                                                                     \
    static void backward_##NAME(const Job *j, long a, long r, long h, float *buf) {                      \
        backward_item(j, a, r, h, buf, DIM);                                                              \
    }
SPECIALIZE(d4, 4)
SPECIALIZE(d8, 8)
SPECIALIZE(d16, 16)
SPECIALIZE(any, j->D)
static void forward_d32(const Job *j, long a, long r, long h, float *buf) { forward_wide(j, a, r, h, buf, 32); }
static void forward_d64(const Job *j, long a, long r, long h, float *buf) { forward_wide(j, a, r, h, buf, 64); }
static void forward_wide_any(const Job *j, long a, long r, long h, float *buf) { forward_wide(j, a, r, h, buf, j->D); }

typedef void (*ItemFn)(const Job *, long, long, long, float *);

/* Runs every work item on n_threads OpenMP threads (PyTorch's own pool when the process has loaded its
 * libgomp); STATUS_BAD_SHAPE when D is odd or above MAX_D, STATUS_NO_MEMORY when a work buffer ran out. */
static int run(Job *j, int n_threads) {
    if (j->D > MAX_D || j->D % 2 != 0) return STATUS_BAD_SHAPE;
    ItemFn fn;
    if (j->L < VW / 2)
        fn = j->backward ? backward_small : forward_small;
    else if (j->backward)
        fn = j->D == 4 ? backward_d4 : j->D == 8 ? backward_d8 : j->D == 16 ? backward_d16 : backward_any;
    else
        fn = j->D == 4 ? forward_d4 : j->D == 8 ? forward_d8 : j->D == 16 ? forward_d16 : j->D == 32 ? forward_d32
           : j->D == 64 ? forward_d64 : j->D > 16 ? forward_wide_any : forward_any;
    j->Lp = (j->L + VW - 1) / VW * VW;
    const long n_items = j->A * j->R * j->H, chunk = n_items / (16L * (n_threads > 0 ? n_threads : 1)) + 1;
    const size_t buf_size = sizeof(float) * (j->L * (j->D + VW) + 4 * j->D * j->Lp + 2 * j->Lp + 16);
    int error = 0;
#pragma omp parallel num_threads(n_threads) reduction(| : error)
    {
        float *buf = (float *)malloc(buf_size);
        error |= buf == NULL;
#pragma omp for schedule(dynamic, chunk)
        for (long w = 0; w < n_items; w++)
            if (buf != NULL) fn(j, w / (j->R * j->H), (w / j->H) % j->R, w % j->H, buf);
        free(buf);
    }
    return error ? STATUS_NO_MEMORY : STATUS_OK;
}

int rope_attention_forward(const float *qkv, const float *cs, const float *sn, float *out, float *lse, long A,
                           long L, long R, long H, long D, float scale, int n_threads) {
    Job j = {0};
    j.qkv = qkv, j.cs = cs, j.sn = sn, j.out_w = out, j.lse_w = lse;
    j.A = A, j.L = L, j.R = R, j.H = H, j.D = D, j.scale = scale;
    return run(&j, n_threads);
}

int rope_attention_backward(const float *qkv, const float *cs, const float *sn, const float *out,
                            const float *lse, const float *dout, float *dqkv, long A, long L, long R, long H,
                            long D, float scale, int n_threads) {
    Job j = {0};
    j.qkv = qkv, j.cs = cs, j.sn = sn, j.out = out, j.lse_in = lse, j.dout = dout, j.dqkv = dqkv;
    j.A = A, j.L = L, j.R = R, j.H = H, j.D = D, j.scale = scale, j.backward = 1;
    return run(&j, n_threads);
}

/*
 * RMSGroupNorm over rows of C channels in G groups of d = C / G, as in tflocoformer.RMSGroupNorm:
 *   rms = ||x_g|| / sqrt(d),  s = 1 / (rms + eps),  y = x s gamma.
 * Backward with g = dy gamma: dx = s g - x sum_g(g x) s^2 / (d rms), dgamma = sum over rows of dy x s.
 * x, y, dy, dx [N, C]; rms [N, G] (written by the forward, read by the backward); gamma, dgamma [C].
 * STATUS_BAD_SHAPE unless C is a positive multiple of G; the backward needs a buffer (STATUS_NO_MEMORY).
 */
/* bfloat16 <-> float32: widening is exact; rounding is to nearest even, as PyTorch rounds (NaN stays NaN). */
typedef unsigned int vu __attribute__((vector_size(4 * VW)));
typedef unsigned short vh __attribute__((vector_size(2 * VW), aligned(2))); /* VW bfloat16 values */

#if defined(__AVX512BF16__) && VW == 16
/* The CPU's own conversions: one instruction each way. VCVTNEPS2BF16 rounds to nearest even and quiets NaN as
 * the portable code below does, but flushes float32 denormals (|x| < 1.2e-38) to zero. */
#include <immintrin.h>
INLINE vf bf16_widen(vh x) { return (vf)_mm512_slli_epi32(_mm512_cvtepu16_epi32((__m256i)x), 16); }

INLINE vh bf16_round(vf x) { return (vh)(__m256i)_mm512_cvtneps_pbh((__m512)x); }
#else
INLINE vf bf16_widen(vh x) { return (vf)(__builtin_convertvector(x, vu) << 16); }

INLINE vh bf16_round(vf x) {
    const vu bits = (vu)x;
    const vu rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
    const vu nan = (vu)(x != x);
    return __builtin_convertvector((rounded & ~nan) | (((bits >> 16) | 0x40u) & nan), vh);
}
#endif

INLINE float bf16_widen1(unsigned short x) {
    const unsigned int bits = (unsigned int)x << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

INLINE unsigned short bf16_round1(float x) {
    unsigned int bits;
    memcpy(&bits, &x, 4);
    if (x != x) return (unsigned short)((bits >> 16) | 0x40u);
    return (unsigned short)((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

INLINE int bad_groups(long C, long G) { return G < 1 || C < 1 || C % G != 0; }

int rms_group_norm_forward(const float *x, const float *gamma, float *y, float *rms, long N, long C, long G,
                           float eps, int n_threads) {
    if (bad_groups(C, G)) return STATUS_BAD_SHAPE;
    const long d = C / G;
#pragma omp parallel for schedule(static) num_threads(n_threads)
    for (long n = 0; n < N; n++) {
        for (long g = 0; g < G; g++) {
            const float *xg = x + n * C + g * d;
            float ss = 0.0f;
            for (long i = 0; i < d; i++) ss += xg[i] * xg[i];
            const float r = sqrtf(ss / (float)d), s = 1.0f / (r + eps);
            rms[n * G + g] = r;
            for (long i = 0; i < d; i++) y[n * C + g * d + i] = xg[i] * s * gamma[g * d + i];
        }
    }
    return STATUS_OK;
}

/* The forward for bfloat16 x and y (autocast inference): statistics and products in float32 from the widened x,
 * each output rounded once. */
int rms_group_norm_forward_bf16(const unsigned short *x, const float *gamma, unsigned short *y, float *rms, long N,
                                long C, long G, float eps, int n_threads) {
    if (bad_groups(C, G)) return STATUS_BAD_SHAPE;
    const long d = C / G;
#pragma omp parallel for schedule(static) num_threads(n_threads)
    for (long n = 0; n < N; n++) {
        for (long g = 0; g < G; g++) {
            const unsigned short *xg = x + n * C + g * d;
            const float *gg = gamma + g * d;
            unsigned short *yg = y + n * C + g * d;
            float ss = 0.0f;
            for (long i = 0; i < d; i++) ss += bf16_widen1(xg[i]) * bf16_widen1(xg[i]);
            const float r = sqrtf(ss / (float)d), s = 1.0f / (r + eps);
            rms[n * G + g] = r;
            long i = 0;
            for (; i + VW <= d; i += VW)
                *(vh *)(yg + i) = bf16_round(bf16_widen(*(const vh *)(xg + i)) * s * *(const vfu *)(gg + i));
            for (; i < d; i++) yg[i] = bf16_round1(bf16_widen1(xg[i]) * s * gg[i]);
        }
    }
    return STATUS_OK;
}

int rms_group_norm_backward(const float *x, const float *gamma, const float *rms, const float *dy, float *dx,
                            float *dgamma, long N, long C, long G, float eps, int n_threads) {
    if (bad_groups(C, G)) return STATUS_BAD_SHAPE;
    const long d = C / G;
    if (n_threads < 1) n_threads = 1;
    /* one row of dgamma partial sums per thread, added in thread order: the result does not depend on timing */
    float *partial = (float *)calloc((size_t)n_threads * C, sizeof(float));
    if (partial == NULL) return STATUS_NO_MEMORY;
    int team = 1;
#pragma omp parallel num_threads(n_threads)
    {
        int t = 0;
#ifdef _OPENMP
        t = omp_get_thread_num();
#pragma omp single
        team = omp_get_num_threads();
#endif
        float *acc = partial + (long)t * C;
#pragma omp for schedule(static)
        for (long n = 0; n < N; n++) {
            for (long g = 0; g < G; g++) {
                const long o = n * C + g * d;
                const float r = rms[n * G + g], s = 1.0f / (r + eps);
                float dot = 0.0f;
                for (long i = 0; i < d; i++) dot += dy[o + i] * gamma[g * d + i] * x[o + i];
                const float coef = dot * s * s / ((float)d * (r > 1e-30f ? r : 1e-30f));
                for (long i = 0; i < d; i++) {
                    dx[o + i] = s * dy[o + i] * gamma[g * d + i] - x[o + i] * coef;
                    acc[g * d + i] += dy[o + i] * x[o + i] * s;
                }
            }
        }
    }
    for (long c = 0; c < C; c++) {
        float sum = 0.0f;
        for (int t = 0; t < team; t++) sum += partial[(long)t * C + c];
        dgamma[c] = sum;
    }
    free(partial);
    return STATUS_OK;
}

/*
 * SwiGLU gate of the FFNs: h [M, 2H] rows (value | gate) -> u [M, H] = value * silu(gate), silu(g) = g sigma(g).
 * The forward first adds the bias b [2H] to h (the matmul producing h then needs no bias pass of its own); with
 * store_h the sum replaces h, the pre-activation the backward reads, else h is left as it was (inference: one
 * write pass less). Backward, from du [M, H]: dh = (du silu(g), du value sigma(g) (1 + g (1 - sigma(g)))), and
 * u again (the weight gradient of the output projection needs it). Nothing can fail: all return STATUS_OK.
 *
 * swiglu_forward_bf16 is the forward for bfloat16 h and u (inference under autocast): each element is widened to
 * float32, the bias (float32) added and the sum rounded to bfloat16 in h; the gate is computed in float32 from
 * that rounded h and rounded once into u (round to nearest even, as PyTorch rounds).
 */

INLINE vf vsigmoid(vf g) { return 1.0f / (1.0f + vexp(-g)); }

INLINE float sigmoid(float g) { return 1.0f / (1.0f + expf(-g)); }

int swiglu_forward(float *h, const float *b, float *u, long M, long H, int store_h, int n_threads) {
#pragma omp parallel for schedule(static) num_threads(n_threads)
    for (long m = 0; m < M; m++) {
        float *value = h + m * 2 * H, *gate = value + H;
        float *out = u + m * H;
        long i = 0;
        for (; i + VW <= H; i += VW) {
            const vf v = *(const vfu *)(value + i) + *(const vfu *)(b + i);
            const vf g = *(const vfu *)(gate + i) + *(const vfu *)(b + H + i);
            if (store_h) {
                *(vfu *)(value + i) = v;
                *(vfu *)(gate + i) = g;
            }
            *(vfu *)(out + i) = v * g * vsigmoid(g);
        }
        for (; i < H; i++) {
            const float v = value[i] + b[i], g = gate[i] + b[H + i];
            if (store_h) {
                value[i] = v;
                gate[i] = g;
            }
            out[i] = v * g * sigmoid(g);
        }
    }
    return STATUS_OK;
}

int swiglu_forward_bf16(unsigned short *h, const float *b, unsigned short *u, long M, long H, int store_h,
                        int n_threads) {
#pragma omp parallel for schedule(static) num_threads(n_threads)
    for (long m = 0; m < M; m++) {
        unsigned short *value = h + m * 2 * H, *gate = value + H, *out = u + m * H;
        long i = 0;
        for (; i + VW <= H; i += VW) {
            const vh vr = bf16_round(bf16_widen(*(const vh *)(value + i)) + *(const vfu *)(b + i));
            const vh gr = bf16_round(bf16_widen(*(const vh *)(gate + i)) + *(const vfu *)(b + H + i));
            if (store_h) {
                *(vh *)(value + i) = vr;
                *(vh *)(gate + i) = gr;
            }
            const vf g = bf16_widen(gr);
            *(vh *)(out + i) = bf16_round(bf16_widen(vr) * g * vsigmoid(g));
        }
        for (; i < H; i++) {
            const unsigned short vr = bf16_round1(bf16_widen1(value[i]) + b[i]);
            const unsigned short gr = bf16_round1(bf16_widen1(gate[i]) + b[H + i]);
            if (store_h) {
                value[i] = vr;
                gate[i] = gr;
            }
            const float g = bf16_widen1(gr);
            out[i] = bf16_round1(bf16_widen1(vr) * g * sigmoid(g));
        }
    }
    return STATUS_OK;
}

int swiglu_backward(const float *h, const float *du, float *dh, float *u, long M, long H, int n_threads) {
#pragma omp parallel for schedule(static) num_threads(n_threads)
    for (long m = 0; m < M; m++) {
        const float *value = h + m * 2 * H, *gate = value + H, *d = du + m * H;
        float *dvalue = dh + m * 2 * H, *dgate = dvalue + H, *out = u + m * H;
        long i = 0;
        for (; i + VW <= H; i += VW) {
            const vf g = *(const vfu *)(gate + i), v = *(const vfu *)(value + i), dd = *(const vfu *)(d + i);
            const vf sig = vsigmoid(g), silu = g * sig;
            *(vfu *)(dvalue + i) = dd * silu;
            *(vfu *)(dgate + i) = dd * v * sig * (1.0f + g * (1.0f - sig));
            *(vfu *)(out + i) = v * silu;
        }
        for (; i < H; i++) {
            const float g = gate[i], v = value[i], sig = sigmoid(g), silu = g * sig;
            dvalue[i] = d[i] * silu;
            dgate[i] = d[i] * v * sig * (1.0f + g * (1.0f - sig));
            out[i] = v * silu;
        }
    }
    return STATUS_OK;
}

/*
 * Overlap-add of the stride-1 transposed convolution (tflocoformer_ops._shifted_sum), with the bias:
 *   y[a, s, r, c] = (z[a, s, r, K - 1, c] + z[a, s + 1, r, K - 2, c] + ... + z[a, s + K - 1, r, 0, c]) + bias[c],
 * s < L, the K terms summed in float32 in that order, then the bias added (PyTorch's sum and add_ in float32).
 * z [A, L + K - 1, R, K, C], y [A, L, R, C], bias [C] float32 or NULL. The bfloat16 version reads and writes
 * bfloat16 and rounds once. Nothing can fail: both return STATUS_OK.
 */
#define SHIFTED_SUM(NAME, T, LOAD, STORE, LOAD1, STORE1)                                                       \
    int NAME(const T *z, const float *bias, T *y, long A, long L, long R, long K, long C, int n_threads) {   \
        _Pragma("omp parallel for schedule(static) num_threads(n_threads)") for (long as = 0; as < A * L; as++) { \
            const long a = as / L, s = as % L;                                                               \
            for (long r = 0; r < R; r++) {                                                                   \
                T *out = y + (as * R + r) * C;                                                               \
                const T *zk = z + (((a * (L + K - 1) + s) * R + r) * K + K - 1) * C; /* (s, K - 1) */         \
                const long step = (R * K - 1) * C; /* from (s', k) to (s' + 1, k - 1) */                     \
                long c = 0;                                                                                  \
                for (; c + VW <= C; c += VW) {                                                               \
                    vf acc = LOAD(zk + c);                                                                   \
                    for (long k = 1; k < K; k++) acc += LOAD(zk + k * step + c);                             \
                    if (bias) acc += *(const vfu *)(bias + c);                                               \
                    STORE(out + c, acc);                                                                     \
                }                                                                                            \
                for (; c < C; c++) {                                                                         \
                    float acc = LOAD1(zk[c]);                                                                \
                    for (long k = 1; k < K; k++) acc += LOAD1(zk[k * step + c]);                             \
                    if (bias) acc += bias[c];                                                                \
                    out[c] = STORE1(acc);                                                                    \
                }                                                                                            \
            }                                                                                                \
        }                                                                                                    \
        return STATUS_OK;                                                                                    \
    }
#define LOAD_F32(p) (*(const vfu *)(p))
#define STORE_F32(p, v) (*(vfu *)(p) = (v))
#define LOAD_BF16(p) bf16_widen(*(const vh *)(p))
#define STORE_BF16(p, v) (*(vh *)(p) = bf16_round(v))
#define SAME(x) (x)
SHIFTED_SUM(shifted_sum, float, LOAD_F32, STORE_F32, SAME, SAME)
SHIFTED_SUM(shifted_sum_bf16, unsigned short, LOAD_BF16, STORE_BF16, bf16_widen1, bf16_round1)
