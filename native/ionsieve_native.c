/*
 * ionsieve's native kernels for the TF.js wasm backend (loaded by src/model/native.ts; optional:
 * without this addon the same kernels run as XNNPACK products and JS loops).
 *
 * Why: on this project's 2-core machine a k-NAGCN training step on wasm spent ≈ 45 % of its time in
 * XNNPACK matMuls (25–31 GFLOP/s per core) and ≈ 45 % in JS loops over the wasm heap (the gated
 * softplus at ≈ 20 M elements/s, gathers and scatters at ≈ 200 M floats/s). OpenBLAS's AVX2/AVX-512
 * sgemm runs the same products at 90–190 GFLOP/s, and compiled loops run the element-wise work at
 * memory speed. Every function works in place on Float32Array/Int32Array views of the wasm heap (no
 * copies) and checks every size and index against the arrays' lengths first: a wrong call throws,
 * it never writes outside an array.
 *
 * The formulas are the JS kernels' (src/model/kernels.ts), in float32 with float64 accumulation
 * where the JS accumulates in float64; test/model/native.test.ts compares the two.
 */
#include <cblas.h>
#include <math.h>
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 10

typedef struct {
  napi_env env;
  napi_value argv[MAX_ARGS];
  size_t argc;
  bool failed;
} Call;

static bool begin(Call *call, napi_env env, napi_callback_info info, size_t expected, const char *name) {
  call->env = env;
  call->argc = MAX_ARGS;
  call->failed = false;
  if (napi_get_cb_info(env, info, &call->argc, call->argv, NULL, NULL) != napi_ok || call->argc != expected) {
    napi_throw_type_error(env, NULL, name);
    call->failed = true;
    return false;
  }
  return true;
}

static void fail(Call *call, const char *message) {
  if (call->failed) return;
  call->failed = true;
  napi_throw_range_error(call->env, NULL, message);
}

static void *typed(Call *call, size_t i, napi_typedarray_type want, size_t *length) {
  if (call->failed) return NULL;
  bool is_typed = false;
  napi_typedarray_type type;
  void *data = NULL;
  napi_value buffer;
  size_t offset;
  if (napi_is_typedarray(call->env, call->argv[i], &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(call->env, call->argv[i], &type, length, &data, &buffer, &offset) != napi_ok || type != want) {
    call->failed = true;
    napi_throw_type_error(call->env, NULL, want == napi_float32_array ? "expected a Float32Array" : "expected an Int32Array");
    return NULL;
  }
  return data;
}

static int64_t integer(Call *call, size_t i) {
  if (call->failed) return 0;
  int64_t v = 0;
  if (napi_get_value_int64(call->env, call->argv[i], &v) != napi_ok || v < 0 || v > INT32_MAX) {
    fail(call, "sizes must be integers in [0, 2^31)");
    return 0;
  }
  return v;
}

static bool boolean(Call *call, size_t i) {
  if (call->failed) return false;
  bool v = false;
  if (napi_get_value_bool(call->env, call->argv[i], &v) != napi_ok) fail(call, "expected a boolean");
  return v;
}

/* sgemm(transA, transB, M, N, K, A, B, C): C[M × N] = op(A)·op(B), dense row-major; op(A) is
 * [M × K] (A stored [K × M] when transA), op(B) is [K × N] (B stored [N × K] when transB). */
static napi_value sgemm(napi_env env, napi_callback_info info) {
  Call c;
  if (!begin(&c, env, info, 8, "sgemm(transA, transB, M, N, K, A, B, C)")) return NULL;
  bool ta = boolean(&c, 0), tb = boolean(&c, 1);
  int64_t m = integer(&c, 2), n = integer(&c, 3), k = integer(&c, 4);
  size_t la, lb, lc;
  float *a = typed(&c, 5, napi_float32_array, &la);
  float *b = typed(&c, 6, napi_float32_array, &lb);
  float *out = typed(&c, 7, napi_float32_array, &lc);
  if (c.failed) return NULL;
  if ((uint64_t)la < (uint64_t)m * k || (uint64_t)lb < (uint64_t)k * n || (uint64_t)lc < (uint64_t)m * n) {
    fail(&c, "sgemm: an array is shorter than its matrix");
    return NULL;
  }
  if (m == 0 || n == 0) return NULL;
  if (k == 0) {
    memset(out, 0, sizeof(float) * (size_t)(m * n));
    return NULL;
  }
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, 1.0f,
              a, ta ? (int)m : (int)k, b, tb ? (int)k : (int)n, 0.0f, out, (int)n);
  return NULL;
}

/* Checks that every index lies in [0, rows). */
static bool indices_in_range(const int32_t *idx, size_t count, int64_t rows) {
  for (size_t i = 0; i < count; i++)
    if (idx[i] < 0 || idx[i] >= rows) return false;
  return true;
}

/* The arguments of slotGather and slotScatter: (slots [N × S·F], index [N·S], rows [R × F], N, S, F),
 * checked: both arrays long enough and every index a row of `rows`. */
typedef struct {
  float *slots, *rows;
  const int32_t *index;
  int64_t count, features; /* count = N·S */
  size_t row_values;       /* R·F */
} SlotArgs;

static bool slot_args(Call *c, size_t slots_arg, size_t rows_arg, SlotArgs *out) {
  size_t ls, li, lr;
  out->slots = typed(c, slots_arg, napi_float32_array, &ls);
  out->index = typed(c, 1, napi_int32_array, &li);
  out->rows = typed(c, rows_arg, napi_float32_array, &lr);
  int64_t n = integer(c, 3), s = integer(c, 4), f = integer(c, 5);
  if (c->failed) return false;
  out->count = n * s;
  out->features = f;
  out->row_values = lr;
  if (f == 0 || (uint64_t)li < (uint64_t)n * s || (uint64_t)ls < (uint64_t)n * s * f ||
      !indices_in_range(out->index, (size_t)(n * s), (int64_t)(lr / (size_t)f))) {
    fail(c, "slot kernel: sizes or indices out of range");
    return false;
  }
  return true;
}

/* slotGather(h [R × F], index [N·S], z [N × S·F], N, S, F): z[i, s·F + f] = h[index[i·S + s], f]. */
static napi_value slot_gather(napi_env env, napi_callback_info info) {
  Call c;
  SlotArgs a;
  if (!begin(&c, env, info, 6, "slotGather(h, index, z, N, S, F)") || !slot_args(&c, 2, 0, &a)) return NULL;
  const int64_t f = a.features;
  for (int64_t i = 0; i < a.count; i++) memcpy(a.slots + i * f, a.rows + (int64_t)a.index[i] * f, sizeof(float) * (size_t)f);
  return NULL;
}

/* slotScatter(dz [N × S·F], index [N·S], dh [R × F], N, S, F): dh = 0; dh[index[i·S + s]] += dz[i, s·F : s·F + F]. */
static napi_value slot_scatter(napi_env env, napi_callback_info info) {
  Call c;
  SlotArgs a;
  if (!begin(&c, env, info, 6, "slotScatter(dz, index, dh, N, S, F)") || !slot_args(&c, 0, 2, &a)) return NULL;
  const int64_t f = a.features;
  memset(a.rows, 0, sizeof(float) * a.row_values);
  for (int64_t i = 0; i < a.count; i++) {
    float *to = a.rows + (int64_t)a.index[i] * f;
    const float *from = a.slots + i * f;
    for (int64_t j = 0; j < f; j++) to[j] += from[j];
  }
  return NULL;
}

/* The arguments both typed slot-map kernels share: (h [D × F], w [S·F × 2F], index [N·S], …, N, S,
 * F, D) with N, S, F, D at `sizes`; checks h, w, index and every index in [0, S·D). */
typedef struct {
  const float *h, *w;
  const int32_t *index;
  int64_t n, s, f, d;
} TypedMixArgs;

static bool typed_mix_args(Call *c, size_t sizes, TypedMixArgs *a) {
  size_t lh, lw, li;
  a->h = typed(c, 0, napi_float32_array, &lh);
  a->w = typed(c, 1, napi_float32_array, &lw);
  a->index = typed(c, 2, napi_int32_array, &li);
  a->n = integer(c, sizes);
  a->s = integer(c, sizes + 1);
  a->f = integer(c, sizes + 2);
  a->d = integer(c, sizes + 3);
  if (c->failed) return false;
  if (a->f == 0 || a->d == 0 || (uint64_t)lh < (uint64_t)a->d * a->f || (uint64_t)lw < (uint64_t)a->s * a->f * 2 * a->f ||
      (uint64_t)li < (uint64_t)a->n * a->s || !indices_in_range(a->index, (size_t)(a->n * a->s), a->s * a->d)) {
    fail(c, "typed slot map: sizes or indices out of range");
    return false;
  }
  return true;
}

/* A Float32Array argument of at least `values` elements, or NULL with a RangeError thrown. */
static float *float_array_of(Call *c, size_t i, uint64_t values) {
  size_t length;
  float *data = typed(c, i, napi_float32_array, &length);
  if (c->failed) return NULL;
  if ((uint64_t)length < values) {
    fail(c, "typed slot map: an output or gradient array is too short");
    return NULL;
  }
  return data;
}

/* slotMixTyped(h [D × F], w [S·F × 2F], index [N·S], u [N × 2F], N, S, F, D): the first layer's
 * u_i = Σ_s h[t(i,s)]·w_s when atoms have only D distinct feature rows (D ≪ N: one per species mix
 * in the batch). index[i·S + s] = s·D + t(i,s). P_s = h·w_s for every slot (D rows instead of N),
 * then each atom sums its S rows of P. Same function as gathering z [N × S·F] and z·w. */
static napi_value slot_mix_typed(napi_env env, napi_callback_info info) {
  Call c;
  TypedMixArgs a;
  if (!begin(&c, env, info, 8, "slotMixTyped(h, w, index, u, N, S, F, D)") || !typed_mix_args(&c, 4, &a)) return NULL;
  const int64_t n = a.n, s = a.s, f = a.f, d = a.d, f2 = 2 * f;
  float *u = float_array_of(&c, 3, (uint64_t)n * f2);
  if (!u) return NULL;
  float *p = malloc(sizeof(float) * (size_t)(s * d * f2));
  if (!p) {
    fail(&c, "slotMixTyped: out of memory");
    return NULL;
  }
  for (int64_t k = 0; k < s; k++)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)d, (int)f2, (int)f, 1.0f, a.h, (int)f, a.w + k * f * f2, (int)f2, 0.0f,
                p + k * d * f2, (int)f2);
  for (int64_t i = 0; i < n; i++) {
    float *out = u + i * f2;
    const float *first = p + (int64_t)a.index[i * s] * f2;
    for (int64_t j = 0; j < f2; j++) out[j] = first[j];
    for (int64_t k = 1; k < s; k++) {
      const float *row = p + (int64_t)a.index[i * s + k] * f2;
      for (int64_t j = 0; j < f2; j++) out[j] += row[j];
    }
  }
  free(p);
  return NULL;
}

/* slotMixTypedGrad(h, w, index, du [N × 2F], dh [D × F], dw [S·F × 2F], N, S, F, D): the gradient
 * of slotMixTyped. dP[s·D + t] = Σ of du_i over the atoms whose slot s reads type t; dw_s = hᵀ·dP_s;
 * dh = Σ_s dP_s·w_sᵀ. */
static napi_value slot_mix_typed_grad(napi_env env, napi_callback_info info) {
  Call c;
  TypedMixArgs a;
  if (!begin(&c, env, info, 10, "slotMixTypedGrad(h, w, index, du, dh, dw, N, S, F, D)") || !typed_mix_args(&c, 6, &a)) return NULL;
  const int64_t n = a.n, s = a.s, f = a.f, d = a.d, f2 = 2 * f;
  const float *du = float_array_of(&c, 3, (uint64_t)n * f2);
  float *dh = du ? float_array_of(&c, 4, (uint64_t)d * f) : NULL;
  float *dw = dh ? float_array_of(&c, 5, (uint64_t)s * f * f2) : NULL;
  if (!dw) return NULL;
  float *dp = calloc((size_t)(s * d * f2), sizeof(float));
  if (!dp) {
    fail(&c, "slotMixTypedGrad: out of memory");
    return NULL;
  }
  for (int64_t i = 0; i < n; i++) {
    const float *g = du + i * f2;
    for (int64_t k = 0; k < s; k++) {
      float *row = dp + (int64_t)a.index[i * s + k] * f2;
      for (int64_t j = 0; j < f2; j++) row[j] += g[j];
    }
  }
  for (int64_t k = 0; k < s; k++) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)f, (int)f2, (int)d, 1.0f, a.h, (int)f, dp + k * d * f2, (int)f2, 0.0f,
                dw + k * f * f2, (int)f2);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)d, (int)f, (int)f2, 1.0f, dp + k * d * f2, (int)f2, a.w + k * f * f2,
                (int)f2, k == 0 ? 0.0f : 1.0f, dh, (int)f);
  }
  free(dp);
  return NULL;
}

/* columnSum(x [M × C], out [C], M, C): out[c] = Σ_i x[i, c], accumulated in float64. */
static napi_value column_sum(napi_env env, napi_callback_info info) {
  Call c;
  if (!begin(&c, env, info, 4, "columnSum(x, out, M, C)")) return NULL;
  size_t lx, lo;
  const float *x = typed(&c, 0, napi_float32_array, &lx);
  float *out = typed(&c, 1, napi_float32_array, &lo);
  int64_t m = integer(&c, 2), cols = integer(&c, 3);
  if (c.failed) return NULL;
  if ((uint64_t)lx < (uint64_t)m * cols || (uint64_t)lo < (uint64_t)cols) {
    fail(&c, "columnSum: sizes out of range");
    return NULL;
  }
  double *acc = calloc(cols > 0 ? (size_t)cols : 1, sizeof(double));
  if (!acc) {
    fail(&c, "columnSum: out of memory");
    return NULL;
  }
  for (int64_t i = 0; i < m; i++) {
    const float *row = x + i * cols;
    for (int64_t j = 0; j < cols; j++) acc[j] += row[j];
  }
  for (int64_t j = 0; j < cols; j++) out[j] = (float)acc[j];
  free(acc);
  return NULL;
}

/* σ(x) and softplus(x) = log(1 + eˣ), stable for large |x|: the JS kernels' formulas, in float64
 * like JS's Math.exp/Math.log1p (so overflow, underflow and NaN behave the same), rounded to float32
 * on store. */
static inline double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }
/* A float32 as JS stores it: NaN always as the positive quiet NaN. x86 makes negative NaNs, and
 * XNNPACK's integer-compare ReLU maps a negative NaN to 0, which would hide a diverged loss. */
static inline float js_float(double v) { return v != v ? NAN : (float)v; }
static inline double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

/* gatedSoftplus(u [M × 2F], m [M × F], M, F): m = σ(u[:, :F]) ⊙ softplus(u[:, F:]). */
static napi_value gated_softplus(napi_env env, napi_callback_info info) {
  Call c;
  if (!begin(&c, env, info, 4, "gatedSoftplus(u, m, M, F)")) return NULL;
  size_t lu, lm;
  const float *u = typed(&c, 0, napi_float32_array, &lu);
  float *out = typed(&c, 1, napi_float32_array, &lm);
  int64_t m = integer(&c, 2), f = integer(&c, 3);
  if (c.failed) return NULL;
  if ((uint64_t)lu < (uint64_t)m * 2 * f || (uint64_t)lm < (uint64_t)m * f) {
    fail(&c, "gatedSoftplus: sizes out of range");
    return NULL;
  }
  for (int64_t i = 0; i < m; i++) {
    const float *row = u + i * 2 * f;
    float *o = out + i * f;
    for (int64_t j = 0; j < f; j++) o[j] = js_float(sigmoid(row[j]) * softplus(row[f + j]));
  }
  return NULL;
}

/* gatedSoftplusGrad(u [M × 2F], dm [M × F], du [M × 2F], M, F): the gradient of gatedSoftplus. */
static napi_value gated_softplus_grad(napi_env env, napi_callback_info info) {
  Call c;
  if (!begin(&c, env, info, 5, "gatedSoftplusGrad(u, dm, du, M, F)")) return NULL;
  size_t lu, lm, ld;
  const float *u = typed(&c, 0, napi_float32_array, &lu);
  const float *dm = typed(&c, 1, napi_float32_array, &lm);
  float *du = typed(&c, 2, napi_float32_array, &ld);
  int64_t m = integer(&c, 3), f = integer(&c, 4);
  if (c.failed) return NULL;
  if ((uint64_t)lu < (uint64_t)m * 2 * f || (uint64_t)lm < (uint64_t)m * f || (uint64_t)ld < (uint64_t)m * 2 * f) {
    fail(&c, "gatedSoftplusGrad: sizes out of range");
    return NULL;
  }
  for (int64_t i = 0; i < m; i++) {
    const float *row = u + i * 2 * f;
    const float *g = dm + i * f;
    float *o = du + i * 2 * f;
    for (int64_t j = 0; j < f; j++) {
      const double p = row[j], s = row[f + j], gj = g[j];
      const double gate = 1.0 / (1.0 + exp(-p));
      const double e = exp(-fabs(s));
      const double sigmoid_s = s >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
      /* Math.max(s, 0) in JS is NaN for NaN s (fmax would drop it). */
      const double core = (s > 0 ? s : (s == s ? 0.0 : s)) + log1p(e);
      o[j] = js_float(gj * gate * (1.0 - gate) * core);
      o[f + j] = js_float(gj * gate * sigmoid_s);
    }
  }
  return NULL;
}

static napi_value set_threads(napi_env env, napi_callback_info info) {
  Call c;
  if (!begin(&c, env, info, 1, "setThreads(n)")) return NULL;
  int64_t threads = integer(&c, 0);
  if (c.failed) return NULL;
  if (threads < 1) {
    fail(&c, "setThreads: n must be at least 1");
    return NULL;
  }
  openblas_set_num_threads((int)threads);
  return NULL;
}

static napi_value describe(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result, config, core, threads;
  if (napi_create_object(env, &result) != napi_ok ||
      napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &config) != napi_ok ||
      napi_create_string_utf8(env, openblas_get_corename(), NAPI_AUTO_LENGTH, &core) != napi_ok ||
      napi_create_int32(env, openblas_get_num_threads(), &threads) != napi_ok ||
      napi_set_named_property(env, result, "config", config) != napi_ok ||
      napi_set_named_property(env, result, "core", core) != napi_ok ||
      napi_set_named_property(env, result, "threads", threads) != napi_ok) {
    napi_throw_error(env, NULL, "describe failed");
    return NULL;
  }
  return result;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
      {"sgemm", NULL, sgemm, NULL, NULL, NULL, napi_default, NULL},
      {"slotGather", NULL, slot_gather, NULL, NULL, NULL, napi_default, NULL},
      {"slotScatter", NULL, slot_scatter, NULL, NULL, NULL, napi_default, NULL},
      {"columnSum", NULL, column_sum, NULL, NULL, NULL, napi_default, NULL},
      {"slotMixTyped", NULL, slot_mix_typed, NULL, NULL, NULL, napi_default, NULL},
      {"slotMixTypedGrad", NULL, slot_mix_typed_grad, NULL, NULL, NULL, napi_default, NULL},
      {"gatedSoftplus", NULL, gated_softplus, NULL, NULL, NULL, napi_default, NULL},
      {"gatedSoftplusGrad", NULL, gated_softplus_grad, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_default, NULL},
      {"describe", NULL, describe, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
